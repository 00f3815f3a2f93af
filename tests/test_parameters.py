"""Each query parameter is declared once (assetmap.search.parameters and
assetmap.search.nearby.PARAMETERS),
and everything that shows one is made from the declarations: the OpenAPI document, the
options of `assetmap search`, the search form and the links a search writes. These tests
fail when one of them shows a parameter that is not declared, or leaves a declared one out.
"""

from __future__ import annotations

import re

import pytest

from assetmap.search import nearby as search
from assetmap.search import parameters
from assetmap.search.parameters import (
    NUMBER,
    ONE_OF,
    TERMS,
    TEXT,
    TIME_OF_DAY,
    WHOLE_NUMBER,
    YES_NO,
    Parameter,
)

NAMES = [p.name for p in search.PARAMETERS]


def _document_parameters(client, path: str) -> list[dict]:
    document = client.get("/api/openapi.json").get_json()
    return document["paths"][path]["get"]["parameters"]


def test_the_api_document_lists_every_search_parameter_and_nothing_else(client):
    described = _document_parameters(client, "/api/v1/search")
    assert [p["name"] for p in described] == NAMES
    for declared, shown in zip(search.PARAMETERS, described, strict=True):
        assert shown["description"].startswith(declared.help)
        if declared.terms:
            schema = shown["schema"]
            enum = schema["items"]["enum"] if declared.repeats else schema["enum"]
            assert enum == list(declared.slugs)


def test_the_api_document_lists_every_listing_parameter_and_nothing_else(client):
    described = _document_parameters(client, "/api/v1/assets")
    assert [p["name"] for p in described] == [p.name for p in parameters.LISTING_PARAMETERS]


def test_assetmap_search_has_an_option_for_every_parameter_and_no_other(runner):
    result = runner.invoke(args=["search", "--help"])
    assert result.exit_code == 0, result.output
    options = re.findall(r"^  (--[a-z-]+)", result.output, re.MULTILINE)
    assert options == [p.cli_option for p in search.PARAMETERS] + ["--help"]
    assert "--radius NUMBER" in result.output and "--order [distance|relevance]" in result.output


def _search_form(page: str) -> str:
    start = page.index('<form method="get" action="/search"')
    return page[start : page.index("</form>", start)]


def test_the_search_form_asks_for_each_declared_parameter_and_nothing_else(client):
    # Searching around a point: the form carries the point along in hidden inputs.
    form = _search_form(client.get("/search?lat=53.4263&lon=-2.3034").get_data(as_text=True))
    names = set(re.findall(r'name="([^"]+)"', form))
    assert names == {p.name for p in search.PARAMETERS if p.form}
    assert {"approach", "limit", "offset"}.isdisjoint(names)  # in links only


def test_the_search_forms_choices_are_the_declared_ones(client):
    form = _search_form(client.get("/search").get_data(as_text=True))
    selects = dict(
        re.findall(r'<select id="search-[a-z_]+" name="([a-z_]+)">(.*?)</select>', form, re.S)
    )
    assert set(selects) == {
        "radius_km",
        "category",
        "audience",
        "day",
        "time",
        "kind",
        "strand",
        "order",
    }
    for name, options in selects.items():
        declared = next(p for p in search.PARAMETERS if p.name == name)
        values = [v for v in re.findall(r'<option value="([^"]*)"', options) if v]
        assert values == [t.slug for t in declared.offered or declared.terms], name
    boxes = re.findall(r'<input type="checkbox" name="accessible" value="([^"]+)"', form)
    assert boxes == list(search.ACCESSIBLE.slugs)


def _other_than_default(p: Parameter) -> str:
    """A value of the parameter that is not its default, made from its declaration."""
    if p.kind in (TEXT, TIME_OF_DAY):
        return p.example or "walking"
    if p.kind == NUMBER:
        return str(p.example if p.example is not None else p.high)
    if p.kind == WHOLE_NUMBER:
        return str(int(p.low) + 1)
    if p.kind == YES_NO:
        return "true"
    if p.kind == TERMS:
        return p.slugs[-1]
    assert p.kind == ONE_OF, f"no value made for a {p.kind} parameter"
    return next(slug for slug in p.slugs if slug != p.default)


@pytest.mark.parametrize("centre", [("postcode",), ("lat", "lon")])
def test_a_search_with_every_parameter_gives_back_the_link_that_made_it(centre):
    others = {"postcode", "lat", "lon"} - set(centre)
    args = {p.name: [_other_than_default(p)] for p in search.PARAMETERS if p.name not in others}
    query = search.parse_search(args)
    assert list(query.as_args()) == [name for name in NAMES if name not in others]
    assert search.parse_search(query.as_args()) == query


def test_a_postcode_typed_into_the_form_wins_over_the_point_it_carries():
    point = {"lat": ["53.4263"], "lon": ["-2.3034"], "radius_km": ["5"]}
    assert search.page_args(point | {"postcode": [" "], "utm_source": ["x"]}) == point
    typed = search.page_args(point | {"postcode": ["M33 7ZF"]})
    assert typed == {"postcode": ["M33 7ZF"], "radius_km": ["5"]}
    assert search.is_asked(typed) and not search.is_asked(search.page_args({"q": ["walk"]}))
