"""Keep the row, drop the field (issue 14, item 3): a coordinator's audit loses no asset for a
bad phone, email, website, age, cost or time. Only a name, a kind, a strand and a place reject a
row; a bad optional cell leaves its field empty with a warning that names the cell, the value
and the fix, and the cell is kept as extra information for staff to see on the import run.
Obvious slips are put right and said: "www,example.com", "http//:", a mailto: link, a Contact
column of emails for some rows and phones for others.
"""

# ruff: noqa: E501  (the messages are asserted whole, as a coordinator reads them)

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetmap import imports
from assetmap.imports import ImportOptions
from assetmap.imports.cleaning import RowCleaner
from assetmap.imports.columns import plan_columns
from assetmap.imports.mapping import Mapping, parse_mapping
from assetmap.imports.readers import SourceRow
from assetmap.record import taxonomy
from assetmap.record.validation import validate_asset, web_address_meant
from assetmap.record.values import term_named
from assetmap.store import connect
from assetmap.store import imports as run_store
from tests.conftest import csrf_token
from tests.test_imports_support import ROOT, asset_named, fingerprint

REAL_SHAPED = ROOT / "tests" / "data" / "real_shaped"
HEADERS = ["Name", "Kind", "Strand", "Lat", "Lon"]
PLACE = ["Sale Scrabble Club", "group", "access_community_resources", "53.4242", "-2.3226"]


def cleaned(**cells: object):
    """One row with a name, kind, strand and position, plus the cells given (heading: value)."""
    headers = HEADERS + list(cells)
    cleaner = RowCleaner(plan_columns(headers, Mapping()), Mapping(), source="tests")
    return cleaner.clean(SourceRow(2, PLACE + list(cells.values())))


def said(row) -> list[str]:
    return [f"{p.level}: {p}" for p in row.problems]


# ---------------------------------------------------------------------------------------------
# Web addresses: one reading of what was meant, for the form's message and the import's repair
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("www,example.com", "https://www.example.com"),
        ("WWW.EXAMPLE.ORG.", "https://www.example.org"),
        ("http//:example.com", "https://example.com"),
        ("http:/example.com", "https://example.com"),
        ("htp://example.com/Walks?day=Tue", "https://example.com/Walks?day=Tue"),
        ("https//example.org", "https://example.org"),
        ("http;//example.org", "https://example.org"),
        ("hhtp://Example.org/a", "https://example.org/a"),
        ("http://www,example.org", "https://www.example.org"),
        ("example.org", "https://example.org"),
        ("www.example.org#top", "https://www.example.org#top"),
        ("<www.example.org>", "https://www.example.org"),
        ("www2.example.org", "https://www2.example.org"),
        ("http://www.example.org,", "https://www.example.org"),
    ],
)
def test_a_mistyped_web_address_is_read_as_the_one_meant(typed, meant):
    assert web_address_meant(typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "https://www.example.org",  # usable as it is
        "ftp://example.org",  # another scheme: not ours to change
        "mailto:jo@example.org",
        "ring reception",
        "wwwexample.com",  # which part is the name is a guess
        "http://",
        "javascript:alert(1)",
        "",
    ],
)
def test_nothing_is_guessed_when_no_one_web_address_is_meant(typed):
    assert web_address_meant(typed) is None


def test_validation_refuses_a_mistyped_address_and_names_the_one_meant():
    result = validate_asset({"website": "www,example.com"}, bounds=None)
    assert result.errors["website"] == (
        "website: 'www,example.com' is not a web address as written; enter https://www.example.com"
    )
    # The messages that said what to do already are kept.
    assert validate_asset({"website": "ftp://example.org"}, bounds=None).errors["website"] == (
        "website: 'ftp://example.org' must start with http:// or https://"
    )


def test_the_form_still_refuses_a_mistyped_web_address_and_shows_the_one_meant(
    client, sign_in, db_path
):
    """The form keeps what the coordinator typed and says what to type: only imports, whose
    coordinator cannot retype 300 rows, repair it (and say so)."""
    sign_in(client, "coordinator")
    before = fingerprint(db_path)
    data = {
        "csrf_token": csrf_token(client, "/manage/assets/new"),
        "name": "Stretford Scrabble",
        "kind": "group",
        "strand": "access_community_resources",
        "lat": "53.4466",
        "lon": "-2.3098",
        "website": "www,example.com",
        "reason": "audit",
    }
    response = client.post("/manage/assets/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "website: &#39;www,example.com&#39; is not a web address as written; enter "
        "https://www.example.com"
    ) in page
    assert fingerprint(db_path) == before


def test_a_dialling_code_alone_is_named_as_one():
    result = validate_asset({"phone": "0161"}, bounds=None)
    assert result.errors["phone"] == (
        "phone: '0161' is only a dialling code; enter the whole number, such as 0161 912 2000"
    )


# ---------------------------------------------------------------------------------------------
# Access words people write
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("Wheelchair access", "step_free"),
        ("wheelchair accessible", "step_free"),
        ("step free access", "step_free"),
        ("Step-free", "step_free"),
        ("Disabled access", "step_free"),
        ("Level access", "step_free"),
        ("accessible toilets", "accessible_toilet"),
        ("Accessible toilet", "accessible_toilet"),
        ("Disabled toilets", "accessible_toilet"),
        ("Hearing loops", "hearing_loop"),
        ("induction loop", "hearing_loop"),
        ("BSL", "bsl"),
        ("sign language", "bsl"),
        ("Car parks", "parking"),
        ("on a bus route", "public_transport"),
        ("Large print", "large_print"),
    ],
)
def test_access_words_as_audits_write_them_name_the_accessibility_terms(typed, slug):
    result = validate_asset({"accessibility": typed}, bounds=None)
    assert result.record["accessibility"] == [slug]
    assert "accessibility" not in result.errors


def test_plurals_are_read_in_lists_only_and_never_take_another_terms_word():
    assert term_named(taxonomy.ACCESSIBILITY, "hearing loops") is None
    assert term_named(taxonomy.ACCESSIBILITY, "hearing loops", plurals=True) == "hearing_loop"
    assert term_named(taxonomy.AUDIENCES, "Older People", plurals=True) == "older_people"
    assert term_named(taxonomy.AUDIENCES, "carer", plurals=True) == "carers"
    # "access" and "bus" are not plurals of anything.
    assert term_named(taxonomy.ACCESSIBILITY, "access", plurals=True) is None
    validated = validate_asset({"audiences": "women; men"}, bounds=None)
    assert validated.record["audiences"] == ["women", "men"]


def test_every_alias_names_one_term_and_none_is_another_terms_slug_or_label():
    from assetmap.record.values import spelling_key

    for vocabulary in taxonomy.VOCABULARIES.values():
        own = {spelling_key(w): t.slug for t in vocabulary for w in (t.slug, t.label)}
        for term in vocabulary:
            for alias in term.aliases:
                assert own.get(spelling_key(alias), term.slug) == term.slug, alias
                assert term_named(vocabulary, alias) == term.slug, alias


def test_unknown_access_words_are_kept_with_a_warning_and_the_row_imported():
    row = cleaned(Accessibility="Wheelchair access; baby changing; accessible toilets")
    assert row.record["accessibility"] == ["step_free", "accessible_toilet"]
    assert said(row) == [
        "warning: row 2, column F (Accessibility): 'baby changing' is not among the accessibility we know, so it was left out and kept as extra information. Use the words listed in the template's guide, or map them in a mapping file"
    ]
    assert row.extra == {"Accessibility (not recognised)": "baby changing"}


# ---------------------------------------------------------------------------------------------
# One row at a time: each repair and each drop
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored", "message"),
    [
        (
            "www,example.com",
            "https://www.example.com",
            "'www,example.com' is not a web address as written; it was read as https://www.example.com. Check it opens",
        ),
        (
            "WWW.EXAMPLE.ORG.",
            "https://www.example.org",
            "'WWW.EXAMPLE.ORG.' is not a web address as written; it was read as https://www.example.org. Check it opens",
        ),
        (
            "http//:example.com",
            "https://example.com",
            "'http//:example.com' is not a web address as written; it was read as https://example.com. Check it opens",
        ),
        (
            "http:/example.com",
            "https://example.com",
            "'http:/example.com' is not a web address as written; it was read as https://example.com. Check it opens",
        ),
        (
            "htp://example.com",
            "https://example.com",
            "'htp://example.com' is not a web address as written; it was read as https://example.com. Check it opens",
        ),
        (
            "www.example.org/quilters",
            "https://www.example.org/quilters",
            "had no https:// in front; it was read as https://www.example.org/quilters. Check it opens",
        ),
    ],
)
def test_a_mistyped_website_is_repaired_and_the_repair_said(typed, stored, message):
    row = cleaned(Website=typed)
    assert row.record["website"] == stored
    assert said(row) == [f"warning: row 2, column F (Website): {message}"]


def test_a_usable_website_is_left_exactly_as_typed():
    row = cleaned(Website="https://WWW.Example.org/Walks")
    assert row.record["website"] == "https://WWW.Example.org/Walks"
    assert row.problems == []


def test_a_mailto_link_in_the_website_column_becomes_the_email():
    row = cleaned(Website="mailto:Jo@Example.org")
    assert (row.record["website"], row.record["email"]) == (None, "Jo@example.org")
    assert said(row) == [
        "warning: row 2, column F (Website): is an email address, not a web address; it was read as the email address Jo@Example.org. Put each email address in the email column"
    ]
    assert "website" not in row.provided and "email" in row.provided


def test_a_mailto_link_that_repeats_the_email_column_leaves_the_website_empty():
    row = cleaned(Email="jo@example.org", Website="mailto:jo@example.org?subject=Hello")
    assert (row.record["website"], row.record["email"]) == (None, "jo@example.org")
    assert said(row) == [
        "warning: row 2, column G (Website): is the email address again, not a web address, so the website was left empty"
    ]


def test_a_mailto_link_that_disagrees_with_the_email_column_is_kept_raw():
    row = cleaned(Email="jo@example.org", Website="mailto:sam@example.org")
    assert (row.record["website"], row.record["email"]) == (None, "jo@example.org")
    assert row.extra == {"Website (not imported)": "mailto:sam@example.org"}
    assert said(row) == [
        "warning: row 2, column G (Website): is an email address, not a web address, and the email column gives another; it was left out and kept as extra information. Put each email address in the email column"
    ]


def test_a_mailto_link_in_the_email_column_is_simply_the_email():
    row = cleaned(Email="mailto:jo@example.org")
    assert row.record["email"] == "jo@example.org"
    assert row.problems == []


def test_a_phone_number_in_the_email_column_becomes_the_phone():
    row = cleaned(Email="0161 912 2000")
    assert (row.record["email"], row.record["phone"]) == (None, "0161 912 2000")
    assert said(row) == [
        "warning: row 2, column F (Email): is a phone number, not an email address; it was read as the phone number 0161 912 2000. Put each phone number in the phone column"
    ]


def test_a_dialling_code_alone_is_dropped_kept_raw_and_the_row_imported():
    row = cleaned(Phone="0161")
    assert not row.rejected
    assert row.record["phone"] is None
    assert row.extra == {"Phone (not imported)": "0161"}
    assert said(row) == [
        "warning: row 2, column F (Phone): '0161' is only a dialling code; enter the whole number, such as 0161 912 2000. It was left out and kept as extra information; the rest of the row was imported"
    ]
    assert "phone" not in row.provided  # an asset already listed keeps its number


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(0161) 912-2000", "(0161) 912-2000"),
        ("0161  912   2000", "0161 912 2000"),
        ("+44 (0)161 912 2000", "+44 (0)161 912 2000"),
    ],
)
def test_phone_numbers_with_brackets_and_spaces_are_kept_normalised(typed, stored):
    row = cleaned(Phone=typed)
    assert row.record["phone"] == stored and row.problems == []


def test_a_phone_number_with_an_extension_keeps_the_number_and_the_extension_as_written():
    row = cleaned(Phone="0161 912 3000 ext 12")
    assert row.record["phone"] == "0161 912 3000"
    assert row.extra == {"Phone (as written)": "0161 912 3000 ext 12"}
    assert said(row) == [
        "warning: row 2, column F (Phone): only the number 0161 912 3000 was kept from this text; the full text is kept as extra information. Put one number in this column, and notes elsewhere"
    ]


@pytest.mark.parametrize(
    ("heading", "typed", "field", "message"),
    [
        (
            "Email",
            "knitters at example dot org",
            "email",
            "'knitters at example dot org' is not an email address; enter one such as name@example.org",
        ),
        (
            "Website",
            "ring reception",
            "website",
            "'ring reception' contains spaces or hidden characters; enter one web address with no spaces, such as https://example.org/page",
        ),
        (
            "Min age",
            "eighteen",
            "min_age",
            "'eighteen' is not a number; enter a whole number of years from 0 to 120",
        ),
        (
            "Self referral",
            "sometimes",
            "self_referral",
            "'sometimes' is not yes or no; enter yes or no (or true/false, 1/0)",
        ),
        (
            "Status",
            "temporarily shut",
            "status",
            "'temporarily shut' is not a status; use one of active, paused, closed",
        ),
        (
            "Last checked",
            "last spring",
            "last_verified",
            "'last spring' is not a date; enter a date as YYYY-MM-DD, such as 2024-03-31 (or 31/03/2024)",
        ),
        (
            "Times",
            '{"sessions": [{"day": "Funday"}]}',
            "schedule",
            None,  # the schedule's own message, whatever its words
        ),
    ],
)
def test_a_bad_optional_value_leaves_its_field_empty_with_a_warning(heading, typed, field, message):
    row = cleaned(**{heading: typed})
    assert not row.rejected
    assert row.record[field] in (None, [], {"sessions": [], "notes": ""}, "active")
    assert row.extra == {f"{heading} (not imported)": typed}
    [problem] = row.problems
    assert (problem.level, problem.column, problem.value) == ("warning", heading, typed)
    assert problem.message.endswith(
        ". It was left out and kept as extra information; the rest of the row was imported"
    )
    if message is not None:
        assert problem.message.startswith(message + ". ")


def test_an_age_range_the_wrong_way_round_leaves_both_ages_empty():
    row = cleaned(**{"Age range": "65-18"})
    assert (row.record["min_age"], row.record["max_age"]) == (None, None)
    assert row.extra == {"Age range (not imported)": "65-18"}
    assert said(row) == [
        "warning: row 2, column F (Age range): 18 is below min_age 65; swap them, or leave max_age empty if there is no upper limit. It was left out and kept as extra information; the rest of the row was imported"
    ]


def test_an_approach_of_another_strand_is_left_out_and_the_row_kept():
    row = cleaned(Approach="peer_support")
    assert not row.rejected and row.record["approach"] is None
    assert row.extra == {"Approach (not imported)": "peer_support"}


def test_a_formula_in_an_optional_column_is_left_out_but_in_the_name_rejects_the_row():
    row = cleaned(Website='=HYPERLINK("http://evil.example")')
    assert not row.rejected and row.record["website"] is None
    assert row.extra == {"Website (not imported)": '=HYPERLINK("http://evil.example")'}
    cleaner = RowCleaner(plan_columns(HEADERS, Mapping()), Mapping(), source="tests")
    assert cleaner.clean(SourceRow(2, ["=1+1", *PLACE[1:]])).rejected


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"Name": "Name is required"}, "name"),
        ({"Kind": "knitting"}, "kind"),
        ({"Strand": "walking"}, "strand"),
        ({"Lat": "53.4x"}, "lat"),
    ],
)
def test_what_an_asset_cannot_exist_without_still_rejects_the_row(cells, field):
    values = dict(zip(HEADERS, PLACE, strict=True))
    values.update(cells)
    if field == "name":
        values["Name"] = ""
    cleaner = RowCleaner(plan_columns(HEADERS, Mapping()), Mapping(), source="tests")
    row = cleaner.clean(SourceRow(2, list(values.values())))
    assert row.rejected
    assert [p.level for p in row.problems] == ["error"]


def test_a_mistyped_postcode_rejects_a_row_it_was_to_place_but_not_one_with_a_position():
    row = cleaned(Postcode="WA154 1HF")
    assert not row.rejected and row.record["postcode"] is None
    assert row.extra == {"Postcode (not imported)": "WA154 1HF"}
    headers = ["Name", "Kind", "Strand", "Postcode"]
    cleaner = RowCleaner(plan_columns(headers, Mapping()), Mapping(), source="tests")
    alone = cleaner.clean(SourceRow(2, [*PLACE[:3], "WA154 1HF"]))
    assert alone.rejected
    assert [f"{p.level}: {p}" for p in alone.problems] == [
        "error: row 2, column D (Postcode): 'WA154 1HF' is not a UK postcode; enter one such as M33 7ZF"
    ]


# ---------------------------------------------------------------------------------------------
# Empty markers, per field
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["NaN", "nan", "null", "None", "N/A", "-"])
def test_markers_of_nothing_in_optional_text_cells_are_empty(marker):
    row = cleaned(Description=marker, Phone=marker, Email=marker, Website=marker, Ages=marker)
    assert row.problems == [] and row.extra == {}
    assert [row.record[f] for f in ("description", "phone", "email", "website", "min_age")] == [
        None
    ] * 5


def test_nan_coordinates_are_empty_so_the_postcode_places_the_asset(trafford_db_path, tmp_path):
    audit = tmp_path / "nan.csv"
    audit.write_text(
        "Name,Kind,Strand,Postcode,Lat,Lon\n"
        "Sale Scrabble Club,group,access_community_resources,M33 7ZF,NaN,NaN\n",
        encoding="utf-8",
    )
    db = connect(trafford_db_path)
    report = imports.preview(db, audit)
    db.close()
    assert report.summary() == "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    assert report.problems == []


@pytest.mark.parametrize(
    ("typed", "cost", "details"),
    [
        ("None", "free", None),  # "Cost: None" is no charge
        ("nil", "free", None),
        ("N/A", None, None),  # not applicable: not said
        ("-", None, None),
        ("NaN", None, None),
        ("Free", "free", None),
    ],
)
def test_none_in_a_cost_column_means_free_where_other_markers_stay_empty(typed, cost, details):
    row = cleaned(Cost=typed)
    assert (row.record["cost"], row.record["cost_details"]) == (cost, details)
    assert row.problems == []


# ---------------------------------------------------------------------------------------------
# A "Contact" column of emails, phones and web addresses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "phone", "email", "website"),
    [
        ("jo@example.org", None, "jo@example.org", None),
        ("0161 912 2000", "0161 912 2000", None, None),
        ("www.example.org", None, None, "https://www.example.org"),
        ("07700 900123 / jo@example.org", "07700 900123", "jo@example.org", None),
        ("Tel: 0161 912 2000, email jo@example.org", "0161 912 2000", "jo@example.org", None),
        ("mailto:jo@example.org", None, "jo@example.org", None),
        (
            "jo@example.org; https://example.org/club",
            None,
            "jo@example.org",
            "https://example.org/club",
        ),
    ],
)
def test_a_contact_cell_is_split_by_value_into_phone_email_and_website(
    typed, phone, email, website
):
    row = cleaned(Contact=typed)
    found = (row.record["phone"], row.record["email"], row.record["website"])
    assert found == (phone, email, website)
    assert all(p.level == "warning" and "https://" in p.message for p in row.problems)
    assert row.extra == {}
    given = {
        name for name, value in zip(("phone", "email", "website"), found, strict=True) if value
    }
    assert given <= row.provided
    assert not ({"phone", "email", "website"} - given) & row.provided  # nothing cleared


def test_a_house_or_room_number_in_a_contact_cell_is_not_taken_for_a_phone_number():
    row = cleaned(Contact="Room 101, Town Hall")
    assert row.record["phone"] is None
    assert row.extra == {"Contact (as written)": "Room 101, Town Hall"}
    assert [p.level for p in row.problems] == ["warning"]


def test_the_same_number_twice_in_a_contact_cell_is_one_number():
    row = cleaned(Contact="0161 912 2000 / 0161 912 2000")
    assert row.record["phone"] == "0161 912 2000"
    assert row.problems == [] and row.extra == {}


def test_what_is_none_of_the_three_is_kept_raw_with_a_warning():
    row = cleaned(Contact="Ask for Jo at reception")
    assert (row.record["phone"], row.record["email"], row.record["website"]) == (None,) * 3
    assert row.extra == {"Contact (as written)": "Ask for Jo at reception"}
    assert said(row) == [
        "warning: row 2, column F (Contact): 'Ask for Jo at reception' is not an email address, phone number or web address. The whole cell is kept as extra information. Put one email address, one phone number and one web address here at most, and names or notes in other columns"
    ]


def test_a_second_phone_number_in_a_contact_cell_is_kept_raw():
    row = cleaned(Contact="0161 912 2122 or 0161 912 2123")
    assert row.record["phone"] == "0161 912 2122"
    assert row.extra == {"Contact (as written)": "0161 912 2122 or 0161 912 2123"}
    assert said(row) == [
        "warning: row 2, column F (Contact): only the first phone number was used, not 0161 912 2123. The whole cell is kept as extra information. Put one email address, one phone number and one web address here at most, and names or notes in other columns"
    ]


def test_a_fields_own_column_wins_over_the_contact_column():
    row = cleaned(Phone="0161 912 2000", Contact="07700 900123 / jo@example.org")
    assert (row.record["phone"], row.record["email"]) == ("0161 912 2000", "jo@example.org")
    assert row.extra == {"Contact (as written)": "07700 900123 / jo@example.org"}
    assert said(row) == [
        "warning: row 2, column G (Contact): its phone number 07700 900123 differs from the Phone column's, which was used. The whole cell is kept as extra information. Put one email address, one phone number and one web address here at most, and names or notes in other columns"
    ]
    agreeing = cleaned(Phone="0161 912 2000", Contact="+44 161 912 2000")
    assert agreeing.record["phone"] == "0161 912 2000" and agreeing.problems == []


def test_a_bad_phone_in_a_contact_cell_is_named_by_the_contact_column():
    row = cleaned(Contact="0161")
    assert not row.rejected and row.record["phone"] is None
    assert row.extra == {"Contact (not imported)": "0161"}
    assert said(row) == [
        "warning: row 2, column F (Contact): '0161' is only a dialling code; enter the whole number, such as 0161 912 2000. It was left out and kept as extra information; the rest of the row was imported"
    ]


CONTACT_CELLS = st.one_of(
    st.none(),
    st.text(alphabet="0123456789 +()-/.,;:@wehtpsmailto", max_size=40),
    st.text(max_size=30),
    st.sampled_from(["0161", "jo@example.org", "www,example.com", "mailto:", "http//:", "ext 4"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONTACT_CELLS, CONTACT_CELLS, CONTACT_CELLS, CONTACT_CELLS)
def test_no_contact_cells_whatever_they_hold_reject_the_row_or_raise(contact, phone, email, web):
    row = cleaned(Contact=contact, Phone=phone, Email=email, Website=web)
    assert not row.rejected, said(row)
    assert all(p.level == "warning" for p in row.problems)


# ---------------------------------------------------------------------------------------------
# A council audit, as it comes
# ---------------------------------------------------------------------------------------------

AUDIT = REAL_SHAPED / "b_council_audit_contacts.csv"
AUDIT_OPTIONS = {"defaults": {"kind": "group", "strand": "access_community_resources"}}
KEEP = ". The whole cell is kept as extra information. Put one email address, one phone number and one web address here at most, and names or notes in other columns"
LEFT_OUT = ". It was left out and kept as extra information; the rest of the row was imported"


def test_a_council_audit_with_a_contact_column_loses_no_row_for_a_contact(
    trafford_db_path, tmp_path
):
    options = ImportOptions(mapping=parse_mapping(AUDIT_OPTIONS))
    db = connect(trafford_db_path)
    report = imports.preview(db, AUDIT, options)
    assert report.summary() == "7 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates"
    assert [f"{p.level}: {p}" for p in report.problems] == [
        "warning: row 2, column F (Website): 'www,salewalkers.org.uk' is not a web address as written; it was read as https://www.salewalkers.org.uk. Check it opens",
        "warning: row 3, column F (Website): 'WWW.STRETFORDLUNCH.ORG.' is not a web address as written; it was read as https://www.stretfordlunch.org. Check it opens",
        "warning: row 4, column E (Contact): '0161' is only a dialling code; enter the whole number, such as 0161 912 2000"
        + LEFT_OUT,
        "warning: row 4, column F (Website): 'http//:partingtonknit.example.org' is not a web address as written; it was read as https://partingtonknit.example.org. Check it opens",
        "warning: row 5, column F (Website): is the email address again, not a web address, so the website was left empty",
        "warning: row 6, column E (Contact): 'Ask for Jo at reception' is not an email address, phone number or web address"
        + KEEP,
        "warning: row 6, column F (Website): 'htp://coppicecarers.example.org' is not a web address as written; it was read as https://coppicecarers.example.org. Check it opens",
        "warning: row 6, column H (Accessibility): 'baby changing' is not among the accessibility we know, so it was left out and kept as extra information. Use the words listed in the template's guide, or map them in a mapping file",
        "warning: row 7, column E (Contact): its web address www.saletaichi.example.org differs from the Website column's, which was used"
        + KEEP,
        "warning: row 7, column E (Contact): only the number 0161 912 3000 was kept from this text; the full text is kept as extra information. Put one number in this column, and notes elsewhere",
        "warning: row 8, column E (Contact): only the first phone number was used, not 0161 912 2123"
        + KEEP,
        "warning: row 8, column F (Website): 'ring reception' contains spaces or hidden characters; enter one web address with no spaces, such as https://example.org/page"
        + LEFT_OUT,
        "error: row 9, column A (Group name): name is required; enter what people call it",
    ]
    imports.apply(db, AUDIT, options, who="tests", archive_dir=tmp_path)

    def contacts(name: str) -> tuple:
        asset = asset_named(db, name)
        extra = run_store.extra_for_asset(db, asset["id"])
        return asset["phone"], asset["email"], asset["website"], extra

    assert contacts("Striders") == (
        None, "jo.walks@example.org", "https://www.salewalkers.org.uk", {"Venue": "Sale Waterside"}
    )  # fmt: skip
    assert contacts("Luncheon") == (
        "0161 912 5020", None, "https://www.stretfordlunch.org", {"Venue": "Stretford Library"}
    )  # fmt: skip
    assert contacts("Natter") == (
        None, None, "https://partingtonknit.example.org",
        {"Venue": "Partington Centre", "Contact (not imported)": "0161"},
    )  # fmt: skip
    assert contacts("Shed") == (
        "07700 900123", "shed@example.org", None, {"Venue": "Pott Street"}
    )  # fmt: skip
    assert contacts("Carers") == (
        None, None, "https://coppicecarers.example.org",
        {
            "Venue": "Coppice Library",
            "Contact (as written)": "Ask for Jo at reception",
            "Accessibility (not recognised)": "baby changing",
        },
    )  # fmt: skip
    assert contacts("Tai Chi") == (
        "0161 912 3000", None, "https://www.example.org/taichi",
        {
            "Venue": "Sale Leisure Centre",
            "Contact (as written)": "www.saletaichi.example.org or 0161 912 3000 ext 12",
        },
    )  # fmt: skip
    assert contacts("Book Circle") == (
        "0161 912 2122", None, None,
        {
            "Venue": "Urmston Library",
            "Contact (as written)": "Tel: 0161 912 2122 or 0161 912 2123",
            "Website (not imported)": "ring reception",
        },
    )  # fmt: skip
    luncheon = asset_named(db, "Luncheon")
    assert (luncheon["cost"], luncheon["accessibility"], luncheon["min_age"]) == (
        "free",
        ["step_free", "hearing_loop"],
        60,
    )
    assert asset_named(db, "Striders")["accessibility"] == ["step_free", "accessible_toilet"]
    assert asset_named(db, "Natter")["min_age"] is None  # "NaN" is empty
    db.close()


def test_an_asset_already_listed_keeps_a_value_the_next_audit_gets_wrong(
    trafford_db_path, tmp_path
):
    first = tmp_path / "first.csv"
    first.write_text(
        "Ref,Name,Kind,Strand,Postcode,Phone,Website\n"
        "K1,Sale Knitters,group,access_community_resources,M33 7ZF,0161 912 2000,https://example.org\n",
        encoding="utf-8",
    )
    again = tmp_path / "again.csv"
    again.write_text(
        "Ref,Name,Kind,Strand,Postcode,Phone,Website\n"
        "K1,Sale Knitters,group,access_community_resources,M33 7ZF,0161,ring reception\n",
        encoding="utf-8",
    )
    db = connect(trafford_db_path)
    imports.apply(db, first, ImportOptions(source="knitting"), who="tests", archive_dir=tmp_path)
    report = imports.apply(
        db, again, ImportOptions(source="knitting"), who="tests", archive_dir=tmp_path
    )
    assert report.summary() == "0 new, 0 changed, 1 unchanged, 0 rejected, 0 possible duplicates"
    assert [p.level for p in report.problems] == ["warning", "warning"]
    knitters = asset_named(db, "Sale Knitters")
    assert (knitters["phone"], knitters["website"]) == ("0161 912 2000", "https://example.org")
    assert run_store.extra_for_asset(db, knitters["id"]) == {
        "Phone (not imported)": "0161",
        "Website (not imported)": "ring reception",
    }
    db.close()
