"""Postcodes typed any way a person or a spreadsheet types them come out the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetmap.search.postcodes import POSTCODE_EXAMPLE, normalise_postcode


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("m337zf", "M33 7ZF"),
        ("M33 7ZF", "M33 7ZF"),
        ("M1  1AD", "M1 1AD"),  # fixed-width form from a spreadsheet
        (" wa14 1ah ", "WA14 1AH"),
        ("AB101AA", "AB10 1AA"),
        ("EC1A1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("GIR 0AA", "GIR 0AA"),
        ("gir0aa", "GIR 0AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("N1C 4AA", "N1C 4AA"),
        ("BT1 5GS", "BT1 5GS"),  # Belfast
        ("ZE1 0AA", "ZE1 0AA"),  # Shetland
        ("TR21 0HE", "TR21 0HE"),  # Scilly
        ("M33\u00a07ZF", "M33 7ZF"),  # non-breaking space pasted from a web page
        ("M33\t7ZF\n", "M33 7ZF"),
        ("M 3 3 7 Z F", "M33 7ZF"),
        ("\u200bM33 7ZF", "M33 7ZF"),  # zero-width space from a copied web page
        ("\uff2d\uff13\uff13 \uff17\uff3a\uff26", "M33 7ZF"),  # full-width characters
    ],
)
def test_a_postcode_typed_any_way_becomes_the_canonical_form(typed, canonical):
    assert normalise_postcode(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "M33",  # an outward code alone
        "7ZF",
        "M33 7Z",
        "M33 7ZFF",
        "M337 7ZF7",
        "M33 7ZO",  # O is never used in the inward code
        "M33 7CF",  # nor is C
        "QA1 1AA",  # Q never starts a postcode
        "AZ1 1AA",  # Z is never second
        "M33-7ZF",
        "12345",
        "SW1A 1AA extra",
        "M33 7ZF; M1 1AD",
    ],
)
def test_something_that_is_not_a_uk_postcode_is_none(typed):
    assert normalise_postcode(typed) is None


def test_a_value_that_is_not_text_is_not_a_postcode():
    assert normalise_postcode(None) is None  # type: ignore[arg-type]
    assert normalise_postcode(337) is None  # type: ignore[arg-type]


def test_the_example_in_messages_is_itself_a_canonical_postcode():
    assert normalise_postcode(POSTCODE_EXAMPLE) == POSTCODE_EXAMPLE


@given(st.text(max_size=20))
def test_normalising_never_raises_and_is_idempotent(text):
    once = normalise_postcode(text)
    if once is not None:
        assert normalise_postcode(once) == once
        assert once == once.upper().strip()
        assert once.count(" ") == 1


# Letters that may appear in the inward code (never C, I, K, M, O or V).
_INWARD_LETTER = st.sampled_from("ABDEFGHJLNPQRSTUWXYZ")


@given(
    outward=st.sampled_from(["M1", "M33", "WA14", "SK8", "B1", "EC1A", "SW1A", "W1A", "BT48"]),
    sector=st.integers(min_value=0, max_value=9),
    unit=st.tuples(_INWARD_LETTER, _INWARD_LETTER),
    spaces=st.text(alphabet=" \t\u00a0", max_size=3),
    lower=st.booleans(),
)
def test_any_spacing_or_case_of_a_valid_postcode_gives_the_same_answer(
    outward, sector, unit, spaces, lower
):
    inward = f"{sector}{unit[0]}{unit[1]}"
    typed = f"{outward}{spaces}{inward}"
    if lower:
        typed = typed.lower()
    assert normalise_postcode(typed) == f"{outward} {inward}"
