"""The directory's vocabulary: strands, approaches, kinds, categories, audiences and the rest.

This is the one place these slugs and labels are declared. The database, the API, CSV files,
URLs, forms and the map legend all read them from here, so a new category is added once.
The strands and approaches are Public Health England's "family of community-centred
approaches" (2015); the slugs are the stable ones named in PRODUCT.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A slug as stored and sent, with the label people read.

    `aliases` are other words people write for it in their own audits ("Wheelchair access",
    "Disabled toilet"), read as the term wherever a vocabulary is read from text.
    """

    slug: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Strand:
    """One of the four strands, with its map colour and the approaches within it.

    The colour is for the map only; every page also names the strand in words, so that
    nobody has to tell colours apart.
    """

    slug: str
    label: str
    description: str
    colour: str
    approaches: tuple[Term, ...]


STRANDS: tuple[Strand, ...] = (
    Strand(
        "strengthening_communities",
        "Strengthening communities",
        "Building on community capacities to act together on health and its social determinants.",
        "#1b7837",
        (
            Term("community_development", "Community development"),
            Term("asset_based_methods", "Asset-based methods"),
            Term("social_network_approaches", "Social network approaches"),
        ),
    ),
    Strand(
        "volunteer_peer_roles",
        "Volunteer and peer roles",
        "People's capabilities to give advice, information and support, or to organise activities.",
        "#762a83",
        (
            Term("bridging_roles", "Bridging roles"),
            Term("peer_support", "Peer support"),
            Term("peer_education", "Peer education"),
            Term("peer_mentoring", "Peer mentoring"),
            Term("volunteer_health_roles", "Volunteer health roles"),
        ),
    ),
    Strand(
        "collaborations_partnerships",
        "Collaborations and partnerships",
        "Communities and services working together at any stage of the planning cycle.",
        "#b35806",
        (
            Term(
                "community_based_participatory_research", "Community-based participatory research"
            ),
            Term("area_based_initiatives", "Area-based initiatives"),
            Term("community_engagement_in_planning", "Community engagement in planning"),
            Term("co_production_projects", "Co-production projects"),
        ),
    ),
    Strand(
        "access_community_resources",
        "Access to community resources",
        "Connecting people to community resources, practical help, group activities and "
        "volunteering.",
        "#2166ac",
        (
            Term("pathways_to_participation", "Pathways to participation"),
            Term("community_hubs", "Community hubs"),
            Term("community_based_commissioning", "Community-based commissioning"),
            Term("social_prescribing", "Social prescribing"),
        ),
    ),
)

KINDS: tuple[Term, ...] = (
    Term("group", "Group"),
    Term("activity", "Activity"),
    Term("service", "Service"),
    Term("place", "Place"),
    Term("volunteering", "Volunteering opportunity"),
)

CATEGORIES: tuple[Term, ...] = (
    Term("physical_activity", "Physical activity"),
    Term("walking", "Walking"),
    Term("arts_creativity", "Arts and creativity"),
    Term("music_singing", "Music and singing"),
    Term("gardening_nature", "Gardening and nature"),
    Term("befriending_social", "Befriending and social groups"),
    Term("lunch_clubs_food", "Lunch clubs and food"),
    Term("food_support", "Food support"),
    Term("learning_skills", "Learning and skills"),
    Term("digital_inclusion", "Digital inclusion"),
    Term("money_debt", "Money and debt advice"),
    Term("employment", "Employment"),
    Term("housing", "Housing"),
    Term("mental_wellbeing", "Mental wellbeing"),
    Term("carers", "Carers"),
    Term("bereavement", "Bereavement"),
    Term("parenting_families", "Parenting and families"),
    Term("faith", "Faith"),
    Term("heritage", "Heritage"),
    Term("mens_sheds", "Men's sheds"),
    Term("volunteering", "Volunteering"),
)

AUDIENCES: tuple[Term, ...] = (
    Term("everyone", "Everyone"),
    Term("children", "Children"),
    Term("young_people", "Young people"),
    Term("adults", "Adults"),
    Term("older_people", "Older people"),
    Term("families", "Families"),
    Term("women", "Women"),
    Term("men", "Men"),
    Term("carers", "Carers"),
    Term("disabled_people", "Disabled people"),
    Term("lgbtq", "LGBTQ+ people"),
    Term("veterans", "Veterans"),
    Term("refugees_asylum_seekers", "Refugees and asylum seekers"),
    Term("people_with_dementia", "People living with dementia"),
    Term("people_with_mental_health_needs", "People with mental health needs"),
)

# The aliases are the words access audits use (AccessAble, council venue lists, Open Referral
# "accessibility" texts); plurals ("hearing loops") are read by the vocabulary lookup itself.
ACCESSIBILITY: tuple[Term, ...] = (
    Term(
        "step_free",
        "Step-free access",
        (
            "step free", "wheelchair access", "wheelchair accessible", "wheelchair friendly",
            "wheelchair", "disabled access", "level access", "ramp", "ramped access",
            "lift", "lift access", "ground floor access", "accessible entrance",
        ),
    ),
    Term(
        "accessible_toilet",
        "Accessible toilet",
        (
            "disabled toilet", "accessible wc", "disabled wc", "accessible loo",
            "wheelchair accessible toilet", "changing places toilet", "changing places",
        ),
    ),
    Term("hearing_loop", "Hearing loop", ("induction loop", "loop system", "audio loop")),
    Term(
        "bsl",
        "British Sign Language",
        ("sign language", "bsl interpreter", "sign language interpreter"),
    ),
    Term("large_print", "Large print", ("large print materials", "large text")),
    Term(
        "parking",
        "Parking",
        ("car park", "disabled parking", "blue badge parking", "accessible parking"),
    ),
    Term(
        "public_transport",
        "Near public transport",
        (
            "public transport", "on a bus route", "bus route", "near a bus stop",
            "bus stop nearby", "near bus stop", "near a train station",
        ),
    ),
)  # fmt: skip

COSTS: tuple[Term, ...] = (
    Term("free", "Free"),
    Term("low_cost", "Low cost"),
    Term("paid", "Paid"),
)

STATUSES: tuple[Term, ...] = (
    Term("active", "Active"),
    Term("paused", "Paused"),
    Term("closed", "Closed"),
)

# Whether a link worker can send someone now: shown in search results and plans.
CAPACITY: tuple[Term, ...] = (
    Term("open", "Taking new people"),
    Term("waiting_list", "Waiting list"),
    Term("full", "Full"),
)

DAYS: tuple[Term, ...] = (
    Term("monday", "Monday"),
    Term("tuesday", "Tuesday"),
    Term("wednesday", "Wednesday"),
    Term("thursday", "Thursday"),
    Term("friday", "Friday"),
    Term("saturday", "Saturday"),
    Term("sunday", "Sunday"),
)

# How often a session happens: every week, or the nth (or last) such day of each month.
FREQUENCIES: tuple[Term, ...] = (
    Term("weekly", "Every"),
    Term("fortnightly", "Every other"),
    Term("first", "First"),
    Term("second", "Second"),
    Term("third", "Third"),
    Term("fourth", "Fourth"),
    Term("last", "Last"),
)

STRANDS_BY_SLUG: dict[str, Strand] = {s.slug: s for s in STRANDS}
APPROACH_STRAND: dict[str, str] = {a.slug: s.slug for s in STRANDS for a in s.approaches}

VOCABULARIES: dict[str, tuple[Term, ...]] = {
    "kind": KINDS,
    "categories": CATEGORIES,
    "audiences": AUDIENCES,
    "accessibility": ACCESSIBILITY,
    "cost": COSTS,
    "status": STATUSES,
    "capacity": CAPACITY,
    "day": DAYS,
    "frequency": FREQUENCIES,
}


def slugs(terms: tuple[Term, ...]) -> frozenset[str]:
    """The set of slugs in a vocabulary, for membership checks."""
    return frozenset(t.slug for t in terms)


def label(terms: tuple[Term, ...] | tuple[Strand, ...], slug: str | None) -> str:
    """The label for a slug, or the slug itself when it is unknown (never raises)."""
    for term in terms:
        if term.slug == slug:
            return term.label
    return slug or ""


def approach_label(slug: str | None) -> str:
    """The label of an approach in any strand."""
    for strand in STRANDS:
        for approach in strand.approaches:
            if approach.slug == slug:
                return approach.label
    return slug or ""


def as_json() -> dict:
    """The whole taxonomy as served at /api/v1/taxonomy."""

    def terms(ts: tuple[Term, ...]) -> list[dict]:
        return [{"slug": t.slug, "label": t.label} for t in ts]

    return {
        "strands": [
            {
                "slug": s.slug,
                "label": s.label,
                "description": s.description,
                "colour": s.colour,
                "approaches": terms(s.approaches),
            }
            for s in STRANDS
        ],
        **{name: terms(ts) for name, ts in VOCABULARIES.items()},
    }
