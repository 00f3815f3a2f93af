"""The strands, approaches and vocabularies that the database, API, CSV files and URLs share."""

from __future__ import annotations

import json
import re

import pytest

from assetmap.record import taxonomy

# Copied from PRODUCT.md on purpose: these slugs are a stable surface, so a change to them
# should fail here and be a deliberate decision.
PRODUCT_STRANDS = {
    "strengthening_communities": [
        "community_development",
        "asset_based_methods",
        "social_network_approaches",
    ],
    "volunteer_peer_roles": [
        "bridging_roles",
        "peer_support",
        "peer_education",
        "peer_mentoring",
        "volunteer_health_roles",
    ],
    "collaborations_partnerships": [
        "community_based_participatory_research",
        "area_based_initiatives",
        "community_engagement_in_planning",
        "co_production_projects",
    ],
    "access_community_resources": [
        "pathways_to_participation",
        "community_hubs",
        "community_based_commissioning",
        "social_prescribing",
    ],
}


def test_the_four_strands_are_the_ones_in_the_product_brief_in_order():
    assert [s.slug for s in taxonomy.STRANDS] == list(PRODUCT_STRANDS)


@pytest.mark.parametrize("strand_slug", list(PRODUCT_STRANDS))
def test_each_strand_has_exactly_its_approaches_from_the_product_brief(strand_slug):
    strand = taxonomy.STRANDS_BY_SLUG[strand_slug]
    assert [a.slug for a in strand.approaches] == PRODUCT_STRANDS[strand_slug]


def test_every_approach_knows_its_strand():
    expected = {a: s for s, approaches in PRODUCT_STRANDS.items() for a in approaches}
    approach_strand = taxonomy.APPROACH_STRAND
    assert approach_strand == expected


def test_no_approach_slug_is_used_by_two_strands():
    approaches = [a.slug for s in taxonomy.STRANDS for a in s.approaches]
    assert len(approaches) == len(set(approaches))


def test_the_kinds_are_the_five_in_the_product_brief():
    assert [k.slug for k in taxonomy.KINDS] == [
        "group",
        "activity",
        "service",
        "place",
        "volunteering",
    ]


@pytest.mark.parametrize("name", list(taxonomy.VOCABULARIES))
def test_no_vocabulary_repeats_a_slug_or_a_label(name):
    terms = taxonomy.VOCABULARIES[name]
    slugs = [t.slug for t in terms]
    labels = [t.label.casefold() for t in terms]
    assert len(slugs) == len(set(slugs)), name
    assert len(labels) == len(set(labels)), name


def test_strand_slugs_and_labels_are_unique():
    assert len({s.slug for s in taxonomy.STRANDS}) == 4
    assert len({s.label for s in taxonomy.STRANDS}) == 4


def test_every_slug_is_safe_in_urls_and_csv_headers():
    every = [s.slug for s in taxonomy.STRANDS]
    every += [a.slug for s in taxonomy.STRANDS for a in s.approaches]
    every += [t.slug for terms in taxonomy.VOCABULARIES.values() for t in terms]
    for slug in every:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", slug), slug


def test_each_strand_has_its_own_map_colour():
    colours = [s.colour for s in taxonomy.STRANDS]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    assert len(set(colours)) == len(colours)


def test_the_product_brief_categories_are_all_there():
    slugs = taxonomy.slugs(taxonomy.CATEGORIES)
    for slug in ("physical_activity", "walking", "mens_sheds", "volunteering", "food_support"):
        assert slug in slugs


def test_as_json_has_the_strands_with_their_approaches_and_every_vocabulary():
    data = taxonomy.as_json()
    assert set(data) == {"strands", *taxonomy.VOCABULARIES}
    assert [s["slug"] for s in data["strands"]] == list(PRODUCT_STRANDS)
    for strand in data["strands"]:
        assert set(strand) == {"slug", "label", "description", "colour", "approaches"}
        assert [a["slug"] for a in strand["approaches"]] == PRODUCT_STRANDS[strand["slug"]]
        assert all(set(a) == {"slug", "label"} for a in strand["approaches"])
    for name, terms in taxonomy.VOCABULARIES.items():
        assert data[name] == [{"slug": t.slug, "label": t.label} for t in terms]


def test_as_json_survives_a_round_trip_through_json():
    data = taxonomy.as_json()
    assert json.loads(json.dumps(data)) == data


def test_labels_are_found_for_known_slugs_and_unknown_ones_fall_back_to_the_slug():
    assert taxonomy.label(taxonomy.KINDS, "volunteering") == "Volunteering opportunity"
    assert taxonomy.label(taxonomy.STRANDS, "volunteer_peer_roles") == "Volunteer and peer roles"
    assert taxonomy.label(taxonomy.KINDS, "unknown") == "unknown"
    assert taxonomy.label(taxonomy.KINDS, None) == ""
    assert taxonomy.approach_label("social_prescribing") == "Social prescribing"
    assert taxonomy.approach_label(None) == ""
