"""The directory's vocabulary as Open Referral UK 3.0 taxonomies, with ids that never change.

The strands (with their approaches as child terms), kinds, categories and audiences are
declared once, in assetmap.record.taxonomy; this module only says how each is published. A
neighbouring directory that maps our "Walking" term to its own keeps that mapping for good,
so every id is a uuid5 (assetmap.openreferral.mapping.NAMESPACE) of slugs alone:
a taxonomy's id from "taxonomy/<taxonomy slug>", a term's from
"taxonomy_term/<taxonomy slug>/<term slug>". Renaming a label keeps the id; renaming a slug
makes a new term (as it would in our own API).

A taxonomy's `uri` and a term's `term_uri` are this API's own addresses for them
(`<base>/api/oruk/taxonomies/<id>`, `<base>/api/oruk/taxonomy_terms/<id>`), so they stay the
same for as long as the site keeps its address; they are left out where no base address is
known (a service mapped outside a request, such as an export).
"""

from __future__ import annotations

from dataclasses import dataclass

from assetmap.openreferral.ids import stable_id
from assetmap.record import taxonomy as vocabulary


@dataclass(frozen=True)
class OrukTerm:
    """One published term: where it comes from (`field`, `slug`) and how it is shown."""

    taxonomy: str  # the taxonomy's slug
    slug: str
    label: str
    description: str
    field: str  # the asset field that holds it: strand, approach, kind, categories, audiences
    parent: str | None = None  # the parent term's slug (an approach's strand)

    @property
    def id(self) -> str:
        return term_id(self.taxonomy, self.slug)

    @property
    def parent_id(self) -> str | None:
        return term_id(self.taxonomy, self.parent) if self.parent else None


@dataclass(frozen=True)
class OrukTaxonomy:
    slug: str
    name: str
    description: str
    terms: tuple[OrukTerm, ...]

    @property
    def id(self) -> str:
        return taxonomy_id(self.slug)


def taxonomy_id(slug: str) -> str:
    return stable_id("taxonomy", slug)


def term_id(taxonomy_slug: str, term_slug: str) -> str:
    return stable_id("taxonomy_term", taxonomy_slug, term_slug)


def _strands() -> OrukTaxonomy:
    slug = "community-centred-approaches"
    terms: list[OrukTerm] = []
    for strand in vocabulary.STRANDS:
        terms.append(OrukTerm(slug, strand.slug, strand.label, strand.description, "strand"))
        terms.extend(
            OrukTerm(
                slug,
                approach.slug,
                approach.label,
                f"An approach within the strand {strand.label}.",
                "approach",
                parent=strand.slug,
            )
            for approach in strand.approaches
        )
    return OrukTaxonomy(
        slug,
        "Community-centred approaches (Public Health England)",
        "Public Health England's family of community-centred approaches (2015): four strands, "
        "each with its approaches as child terms.",
        tuple(terms),
    )


def _flat(slug: str, name: str, description: str, field: str, words: str, terms) -> OrukTaxonomy:
    return OrukTaxonomy(
        slug,
        name,
        description,
        tuple(OrukTerm(slug, t.slug, t.label, f"{words}: {t.label}.", field) for t in terms),
    )


TAXONOMIES: tuple[OrukTaxonomy, ...] = (
    _strands(),
    _flat(
        "kinds",
        "Kinds of community asset",
        "Whether an asset is a group, an activity, a service, a place or a volunteering "
        "opportunity.",
        "kind",
        "Kind of asset",
        vocabulary.KINDS,
    ),
    _flat(
        "categories",
        "Activity categories",
        "What people do there.",
        "categories",
        "Activity category",
        vocabulary.CATEGORIES,
    ),
    _flat(
        "audiences",
        "Audiences",
        "Who an asset is for.",
        "audiences",
        "Who it is for",
        vocabulary.AUDIENCES,
    ),
)
# Yes-or-no fields of an asset, published as one of two terms (none when not known), so that
# a directory reading ours, or our own export read back, keeps them.
_YES_NO: dict[str, tuple[str, str, str, str]] = {
    # field: (slug when true, label when true, slug when false, label when false)
    "self_referral": (
        "residents-can-ask-to-join",
        "Residents can ask to join without a referral",
        "residents-cannot-ask-to-join",
        "Residents cannot ask to join without a referral",
    ),
    "link_worker_referral": (
        "link-workers-can-refer",
        "Link workers can refer",
        "link-workers-cannot-refer",
        "Link workers cannot refer",
    ),
}
TAXONOMIES = (
    *TAXONOMIES,
    OrukTaxonomy(
        "taking-part",
        "Taking part",
        "Whether residents can ask to join without a referral, and whether link workers can "
        "refer to it (no term: not known).",
        tuple(
            OrukTerm("taking-part", slug, label, f"{label}.", field)
            for field, (yes, yes_label, no, no_label) in _YES_NO.items()
            for slug, label in ((yes, yes_label), (no, no_label))
        ),
    ),
)
YES_SLUGS = frozenset(yes for yes, _, _, _ in _YES_NO.values())
YES_NO_FIELDS = frozenset(_YES_NO)
TAXONOMIES_BY_ID: dict[str, OrukTaxonomy] = {t.id: t for t in TAXONOMIES}
TERMS: tuple[OrukTerm, ...] = tuple(term for t in TAXONOMIES for term in t.terms)
TERMS_BY_ID: dict[str, OrukTerm] = {t.id: t for t in TERMS}
_BY_FIELD: dict[tuple[str, str], OrukTerm] = {(t.field, t.slug): t for t in TERMS}
# Where each asset field's terms are published; a list field holds several slugs.
FIELDS = ("strand", "approach", "kind", "categories", "audiences")
LINK_TYPES = {
    "self_referral": "taking_part",
    "link_worker_referral": "taking_part",
    "strand": "strand",
    "approach": "approach",
    "kind": "kind",
    "categories": "category",
    "audiences": "audience",
}


def terms_of(record: dict) -> list[OrukTerm]:
    """The published terms an asset carries, in FIELDS order (unknown slugs are skipped)."""
    found = []
    for field in FIELDS:
        value = record.get(field)
        for slug in value if isinstance(value, list) else [value] if value else []:
            term = _BY_FIELD.get((field, slug))
            if term is not None:
                found.append(term)
    for field, (yes, _, no, _) in _YES_NO.items():
        value = record.get(field)
        if value is not None:
            found.append(_BY_FIELD[(field, yes if value else no)])
    return found


def _taxonomy_name(slug: str) -> str:
    return next(t.name for t in TAXONOMIES if t.slug == slug)


def term_json(term: OrukTerm, base_url: str | None = None) -> dict:
    """A term as the standard's taxonomy_term object."""
    body = {
        "id": term.id,
        "name": term.label,
        "description": term.description,
        "taxonomy": _taxonomy_name(term.taxonomy),
        "taxonomy_id": taxonomy_id(term.taxonomy),
        "term": term.slug,
    }
    if term.parent_id:
        body["parent_id"] = term.parent_id
    if base_url is not None:
        body["term_uri"] = f"{base_url}/api/oruk/taxonomy_terms/{term.id}"
    return body


def taxonomy_json(found: OrukTaxonomy, base_url: str | None = None) -> dict:
    """A taxonomy as the standard's taxonomy object (its terms are at /taxonomy_terms)."""
    body = {"id": found.id, "name": found.name, "description": found.description}
    if base_url is not None:
        body["uri"] = f"{base_url}/api/oruk/taxonomies/{found.id}"
    return body


def attributes(record: dict, service_id: str, base_url: str | None = None) -> list[dict]:
    """The asset's terms as the service's `attributes`, each with its taxonomy_term inside."""
    return [
        {
            "id": stable_id("attribute", record["id"], term.taxonomy, term.slug),
            "link_id": service_id,
            "link_type": LINK_TYPES[term.field],
            "taxonomy_term_id": term.id,
            "taxonomy_term": term_json(term, base_url),
        }
        for term in terms_of(record)
    ]


def find_terms(
    *,
    taxonomy: str | None = None,
    parent: str | None = None,
    top_only: bool = False,
    search: str = "",
) -> list[OrukTerm]:
    """The terms a /taxonomy_terms request asks for: of one taxonomy (an id), children of one
    term (an id), top-level only, or whose label or slug holds the text (any case)."""
    wanted = search.casefold()
    return [
        t
        for t in TERMS
        if (taxonomy is None or taxonomy_id(t.taxonomy) == taxonomy)
        and (parent is None or t.parent_id == parent)
        and (not top_only or t.parent is None)
        and (not wanted or wanted in t.label.casefold() or wanted in t.slug.casefold())
    ]


def every_taxonomy(base_url: str | None = None) -> list[dict]:
    """Every taxonomy with all its terms, as the standard's objects (for an HSDS package's
    taxonomies.csv and taxonomy_terms.csv, which must hold the terms services point at)."""
    return [
        {**taxonomy_json(t, base_url), "taxonomy_terms": [term_json(x, base_url) for x in t.terms]}
        for t in TAXONOMIES
    ]
