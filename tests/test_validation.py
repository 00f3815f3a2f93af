"""Every way an asset comes in (form, API, CSV import) is cleaned and checked the same way.

The people reading these messages are coordinators fixing a spreadsheet row, so each failing
case also checks that the message names the field and says what to enter instead.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetmap.record import fields
from assetmap.record.html_text import html_to_text
from assetmap.record.validation import UK_BOUNDS, Validated, validate_asset

HOSTILE_NAME = "<img src=x onerror=alert(1)>${alert(2)}"

SALE_WATER_PARK = {"lat": 53.4263, "lon": -2.3034}


def asset(**overrides: object) -> dict:
    """The least a coordinator must enter for a walking group in Sale; overrides change it."""
    data: dict[str, object] = {
        "name": "Sale Walking Group",
        "kind": "group",
        "strand": "access_community_resources",
        **SALE_WATER_PARK,
    }
    data.update(overrides)
    return data


def error_for(field_name: str, **overrides: object) -> str:
    """The error message for one field, failing the test if there is none."""
    result = validate_asset(asset(**overrides))
    assert field_name in result.errors, result.errors
    message = result.errors[field_name]
    assert message.startswith(field_name), message
    return message


def cleaned(field_name: str, value: object) -> object:
    """The cleaned value of one field, failing the test if the record has any error."""
    result = validate_asset(asset(**{field_name: value}))
    assert result.ok, result.errors
    return result.record[field_name]


# ---------------------------------------------------------------------------------------------
# Pasted HTML (assetmap.record.html_text, tested in test_html_text.py)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        HOSTILE_NAME,
        "<script>alert(1)</script>",
        "<svg onload=alert(1)>",
        "<iframe src=javascript:alert(1)>",
        "</textarea><script>alert(1)</script>",
    ],
)
def test_hostile_markup_without_web_formatting_is_kept_exactly_as_typed(typed):
    # Not pasted formatting, so not read as HTML: it reads back as entered and is always
    # shown escaped.
    assert html_to_text(typed) == typed
    assert validate_asset(asset(name=typed)).record["name"] == typed


# ---------------------------------------------------------------------------------------------
# The whole record
# ---------------------------------------------------------------------------------------------


def test_a_coordinator_enters_the_minimum_and_gets_a_complete_record():
    result = validate_asset(asset())
    assert isinstance(result, Validated)
    assert result.ok
    assert result.errors == {}
    assert list(result.record) == list(fields.FIELD_NAMES)
    assert result.record["name"] == "Sale Walking Group"
    assert result.record["description"] is None
    assert result.record["categories"] == []
    assert result.record["schedule"] == {"sessions": [], "notes": ""}
    assert result.record["status"] == "active"


def test_defaults_are_fresh_copies_so_one_record_cannot_change_another():
    first = validate_asset(asset()).record
    first["categories"].append("walking")
    first["schedule"]["notes"] = "changed"
    second = validate_asset(asset()).record
    assert second["categories"] == []
    assert second["schedule"] == {"sessions": [], "notes": ""}
    assert fields.DEFAULTS["categories"] == []


def test_columns_that_are_not_fields_are_ignored():
    result = validate_asset(asset(ward="Sale Moor", Notes="from the 2023 audit"))
    assert result.ok
    assert "ward" not in result.record


def test_the_input_is_not_changed():
    data = asset(categories=["Walking"], schedule={"sessions": [{"day": "Tuesday"}]})
    before = copy.deepcopy(data)
    validate_asset(data)
    assert data == before


def test_a_cleaned_record_validates_to_itself_so_exports_can_be_loaded_again():
    first = validate_asset(
        asset(
            id="sale-walking-group",
            description="<p>Walk &amp; talk</p><p>Then tea</p>",
            approach="Social prescribing",
            categories="Walking; physical_activity",
            min_age="18",
            postcode="m337zf",
            phone="+44 (0)161 912 2000",
            email="Jo@Example.ORG",
            website="https://example.org/walks",
            schedule={"sessions": [{"day": "Tue", "start": "9.30", "end": "11:00"}]},
            service_area={
                "type": "Polygon",
                "coordinates": [[[-2.33, 53.41], [-2.29, 53.41], [-2.29, 53.44], [-2.33, 53.41]]],
            },
            self_referral="yes",
            last_verified="01/06/2025",
            languages="English; Urdu",
        )
    )
    assert first.ok, first.errors
    second = validate_asset(first.record)
    assert second.ok, second.errors
    assert second.record == first.record


def test_a_csv_row_of_strings_and_a_json_object_give_the_same_record():
    from_json = validate_asset(
        asset(
            lat=53.4263,
            lon=-2.3034,
            categories=["walking", "physical_activity"],
            min_age=18,
            self_referral=True,
            languages=["English", "Polish"],
            schedule={"sessions": [{"day": "tuesday", "start": "10:00", "end": "12:00"}]},
        )
    )
    from_csv = validate_asset(
        asset(
            lat="53.4263",
            lon=" -2.3034 ",
            categories="Walking; Physical activity",
            min_age="18",
            self_referral="Yes",
            languages="English, Polish",
            schedule='{"sessions": [{"day": "Tuesday", "start": "10:00", "end": "12:00"}]}',
        )
    )
    assert from_json.ok and from_csv.ok
    assert from_json.record == from_csv.record


@pytest.mark.parametrize("empty", [None, "", "   ", "\u00a0", [], {}])
def test_empty_values_count_as_missing(empty):
    result = validate_asset(asset(description=empty, categories=empty, schedule=empty))
    assert result.ok, result.errors
    assert result.record["description"] is None
    assert result.record["categories"] == []
    assert result.record["schedule"] == {"sessions": [], "notes": ""}


@pytest.mark.parametrize("name", ["name", "kind", "strand", "lat", "lon"])
def test_a_missing_required_field_says_it_is_required_and_what_to_enter(name):
    data = asset()
    del data[name]
    message = validate_asset(data).errors[name]
    assert message.startswith(f"{name} is required; ")
    assert len(message) > len(f"{name} is required; ") + 5


def test_a_name_that_is_only_markup_or_spaces_is_missing():
    assert error_for("name", name="<p> </p>") == "name is required; enter what people call it"
    assert error_for("name", name=" \t ").startswith("name is required")


def test_an_empty_record_lists_every_required_field():
    result = validate_asset({})
    assert not result.ok
    assert set(result.errors) == {f.name for f in fields.FIELDS if f.required}


def test_warnings_do_not_stop_a_record_being_saved():
    result = validate_asset(asset(phone="0161 912"))
    assert result.ok
    assert result.warnings["phone"].startswith("phone: ")


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def test_a_one_line_field_joins_its_lines_and_a_description_keeps_them():
    result = validate_asset(asset(address="1 Rifle Road\nSale", description="Walk.\n\nThen tea."))
    assert result.record["address"] == "1 Rifle Road Sale"
    assert result.record["description"] == "Walk.\n\nThen tea."


def test_a_name_longer_than_500_characters_is_refused_with_the_limit():
    message = error_for("name", name="x" * 501)
    assert "500" in message
    assert cleaned("name", "x" * 500) == "x" * 500


def test_a_description_longer_than_10000_characters_is_refused_with_the_limit():
    message = error_for("description", description="word " * 2001)
    assert "10,000" in message


def test_a_number_in_a_text_column_is_kept_as_text():
    assert cleaned("source_id", 12345) == "12345"


@pytest.mark.parametrize("value", [True, ["a"], {"a": 1}, math.nan])
def test_a_text_field_refuses_values_that_are_not_text(value):
    assert error_for("organisation", organisation=value).startswith("organisation: ")


# ---------------------------------------------------------------------------------------------
# Choices from the taxonomy
# ---------------------------------------------------------------------------------------------


def test_an_unknown_strand_lists_the_four_strands():
    assert error_for("strand", strand="walking") == (
        "strand: 'walking' is not a strand; use one of strengthening_communities, "
        "volunteer_peer_roles, collaborations_partnerships, access_community_resources"
    )


@pytest.mark.parametrize(
    "typed",
    [
        "access_community_resources",
        "ACCESS_COMMUNITY_RESOURCES",
        "Access to community resources",
        "access to community resources",
        " access-community-resources ",
    ],
)
def test_a_strand_is_accepted_by_slug_or_label_in_any_case(typed):
    assert cleaned("strand", typed) == "access_community_resources"


def test_an_unknown_kind_lists_the_kinds():
    message = error_for("kind", kind="club")
    assert "'club'" in message
    assert "group, activity, service, place, volunteering" in message


def test_kind_cost_and_status_accept_their_labels():
    result = validate_asset(
        asset(kind="Volunteering opportunity", cost="Low cost", status="Paused")
    )
    assert result.ok
    assert result.record["kind"] == "volunteering"
    assert result.record["cost"] == "low_cost"
    assert result.record["status"] == "paused"


def test_an_approach_must_belong_to_the_assets_strand():
    message = error_for("approach", approach="peer_support")
    assert "volunteer_peer_roles" in message  # where it does belong
    assert "social_prescribing" in message  # what would fit this strand


def test_an_approach_of_the_same_strand_is_accepted_by_slug_or_label():
    assert cleaned("approach", "social_prescribing") == "social_prescribing"
    assert cleaned("approach", "Community hubs") == "community_hubs"


def test_an_unknown_approach_lists_the_approaches_of_the_strand():
    message = error_for("approach", approach="gardening")
    assert "'gardening'" in message
    assert "pathways_to_participation" in message
    assert "peer_support" not in message


def test_categories_can_be_a_list_or_text_separated_by_semicolons_commas_or_bars():
    expected = ["walking", "arts_creativity", "mens_sheds"]
    assert cleaned("categories", ["walking", "Arts and creativity", "Men's sheds"]) == expected
    assert cleaned("categories", "walking; Arts and creativity; mens_sheds") == expected
    assert cleaned("categories", "walking,arts_creativity , mens sheds") == expected
    assert cleaned("categories", "walking|arts_creativity|MENS_SHEDS") == expected
    assert cleaned("categories", '["walking", "arts_creativity", "mens_sheds"]') == expected


def test_repeated_categories_are_kept_once_in_their_first_order():
    assert cleaned("categories", "walking; Walking; heritage; walking") == ["walking", "heritage"]


def test_unknown_categories_are_named_and_the_allowed_ones_listed():
    message = error_for("categories", categories="walking; swimming; darts")
    assert "'swimming'" in message and "'darts'" in message
    assert "'walking'" not in message.split(";")[0]
    assert "physical_activity" in message and "mens_sheds" in message


def test_audiences_and_accessibility_use_their_own_vocabularies():
    result = validate_asset(
        asset(audiences="Older people; LGBTQ+ people", accessibility=["step_free", "Hearing loop"])
    )
    assert result.ok, result.errors
    assert result.record["audiences"] == ["older_people", "lgbtq"]
    assert result.record["accessibility"] == ["step_free", "hearing_loop"]
    assert error_for("audiences", audiences="walking").startswith("audiences: 'walking'")


def test_languages_are_short_texts_kept_once_each():
    assert cleaned("languages", "English; Polish, english") == ["English", "Polish"]
    assert cleaned("languages", ["British Sign Language"]) == ["British Sign Language"]
    assert error_for("languages", languages=["x" * 101]).startswith("languages: ")


# ---------------------------------------------------------------------------------------------
# Numbers, ages and the point on the map
# ---------------------------------------------------------------------------------------------


def test_ages_are_whole_numbers_from_0_to_120():
    assert cleaned("min_age", "18") == 18
    assert cleaned("min_age", 18.0) == 18
    assert cleaned("max_age", "120") == 120
    assert "0 to 120" in error_for("min_age", min_age=-1)
    assert "0 to 120" in error_for("max_age", max_age=121)
    assert "whole number" in error_for("min_age", min_age="10.5")
    assert "'ten'" in error_for("min_age", min_age="ten")
    assert error_for("min_age", min_age=True).startswith("min_age: ")


def test_a_minimum_age_above_the_maximum_is_refused():
    message = error_for("max_age", min_age=65, max_age=18)
    assert "min_age" in message


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "nan", "inf", True, [53.4]])
def test_a_latitude_must_be_a_real_number(bad):
    assert error_for("lat", lat=bad).startswith("lat: ")


def test_a_latitude_and_longitude_outside_the_earth_are_refused():
    assert "-90 to 90" in error_for("lat", lat=91)
    assert "-180 to 180" in error_for("lon", lon=-181)


def test_swapped_latitude_and_longitude_are_spotted():
    message = error_for("lat", lat=-2.3034, lon=53.4263)
    assert "latitude and longitude look swapped" in message


def test_a_point_outside_the_uk_is_refused_unless_bounds_are_off():
    paris = asset(lat=48.8566, lon=2.3522)
    assert "lat" in validate_asset(paris).errors or "lon" in validate_asset(paris).errors
    assert validate_asset(paris, bounds=None).ok


@pytest.mark.parametrize(
    ("place", "lat", "lon"),
    [
        ("Belfast", 54.597, -5.930),
        ("Enniskillen", 54.344, -7.639),
        ("St Mary's, Scilly", 49.914, -6.311),
        ("Lerwick, Shetland", 60.155, -1.145),
        ("Lowestoft", 52.475, 1.750),
    ],
)
def test_the_uk_bounds_include_the_far_corners_of_the_uk(place, lat, lon):
    assert validate_asset(asset(lat=lat, lon=lon)).ok, place


def test_custom_bounds_keep_a_directory_to_its_own_area():
    trafford = (-2.48, 53.35, -2.25, 53.48)
    assert validate_asset(asset(), bounds=trafford).ok
    manchester_airport = asset(lat=53.3588, lon=-2.2727)
    assert validate_asset(manchester_airport, bounds=trafford).ok
    leeds = asset(lat=53.8008, lon=-1.5491)
    result = validate_asset(leeds, bounds=trafford)
    assert "lat" in result.errors and "lon" in result.errors
    assert UK_BOUNDS[0] < trafford[0]


def test_a_point_at_zero_zero_is_warned_about_when_anywhere_is_allowed():
    result = validate_asset(asset(lat=0, lon=0), bounds=None)
    assert result.ok
    assert "lat" in result.warnings


# ---------------------------------------------------------------------------------------------
# Yes/no and dates
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meaning"),
    [
        (True, True), (False, False), ("true", True), ("FALSE", False), ("Yes", True),
        ("no", False), ("y", True), ("N", False), ("1", True), ("0", False), (1, True),
        (0, False), ("on", True), ("Off", False), (" yes ", True),
    ],
)  # fmt: skip
def test_yes_and_no_are_understood_however_they_are_written(typed, meaning):
    assert cleaned("self_referral", typed) is meaning


def test_an_unclear_yes_or_no_is_refused():
    message = error_for("self_referral", self_referral="maybe")
    assert "yes or no" in message
    assert error_for("link_worker_referral", link_worker_referral=2).startswith(
        "link_worker_referral: "
    )


def test_a_missing_yes_or_no_stays_unknown():
    assert cleaned("self_referral", "") is None


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("2024-03-31", "2024-03-31"),
        ("31/03/2024", "2024-03-31"),
        ("1/3/2024", "2024-03-01"),
        ("2024-03-31T10:15:00", "2024-03-31"),
        (date(2024, 3, 31), "2024-03-31"),
    ],
)
def test_dates_are_stored_as_iso(typed, iso):
    assert cleaned("last_verified", typed) == iso


@pytest.mark.parametrize("typed", ["31/02/2024", "2024-13-01", "March 2024", "yesterday", 20240331])
def test_something_that_is_not_a_date_is_refused_with_the_format(typed):
    assert "YYYY-MM-DD" in error_for("last_verified", last_verified=typed)


def test_a_check_date_more_than_a_day_ahead_is_refused():
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert cleaned("last_verified", tomorrow) == tomorrow
    later = (date.today() + timedelta(days=2)).isoformat()
    assert "future" in error_for("last_verified", last_verified=later)


def test_a_date_refused_as_future_is_taken_once_its_day_comes(monkeypatch):
    """A long-running server must not remember yesterday's answer about a date."""
    from assetmap.record import validation

    later = (date.today() + timedelta(days=2)).isoformat()
    assert "future" in error_for("last_verified", last_verified=later)

    class TwoDaysOn(date):
        @classmethod
        def today(cls):
            return date.fromordinal(date.today().toordinal() + 2)

    monkeypatch.setattr(validation, "date", TwoDaysOn)
    assert cleaned("last_verified", later) == later


# ---------------------------------------------------------------------------------------------
# Contact details
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://www.example.org", "http://example.org/walks?day=tue#top", "https://bücher.de/"]
)
def test_a_web_address_with_http_or_https_is_accepted(url):
    assert cleaned("website", url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://files.example.org",
        "mailto:jo@example.org",
        "//example.org",
    ],
)
def test_a_web_address_that_is_not_http_or_https_is_refused(url):
    assert "must start with http:// or https://" in error_for("website", website=url)


def test_a_bare_www_address_gets_a_suggestion_with_https():
    message = error_for("website", website="www.example.org")
    assert "https://www.example.org" in message


@pytest.mark.parametrize(
    "url", ["https://", "https://exa mple.org", "http:///path", "https://x\ty.org"]
)
def test_a_broken_web_address_is_refused(url):
    assert error_for("website", website=url).startswith("website: ")


def test_an_email_address_keeps_its_name_and_lowercases_its_domain():
    assert cleaned("email", "Jo.Bloggs@Trafford.GOV.uk") == "Jo.Bloggs@trafford.gov.uk"
    assert cleaned("email", "mailto:jo@example.org") == "jo@example.org"


@pytest.mark.parametrize("bad", ["jo", "jo@", "@example.org", "jo@example", "jo @example.org"])
def test_something_that_is_not_an_email_address_is_refused(bad):
    assert "name@example.org" in error_for("email", email=bad)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0161 912 2000", "0161 912 2000"),
        ("01619122000", "01619122000"),
        ("+44 161 912 2000", "+44 161 912 2000"),
        ("+44 (0)161 912 2000", "+44 (0)161 912 2000"),
        ("(0161) 912-2000", "(0161) 912-2000"),
        ("07700  900123", "07700 900123"),
        ("111", "111"),
        ("116 123", "116 123"),
    ],
)
def test_uk_phone_numbers_and_helplines_are_accepted(typed, stored):
    result = validate_asset(asset(phone=typed))
    assert result.ok and not result.warnings, (result.errors, result.warnings)
    assert result.record["phone"] == stored


def test_a_phone_number_of_unusual_length_is_kept_with_a_warning():
    result = validate_asset(asset(contact_phone="0161 9122"))
    assert result.ok
    assert "contact_phone" in result.warnings


@pytest.mark.parametrize("bad", ["12", "call reception", "0161 912 2000 ext 4", "0161.912.2000"])
def test_something_that_is_not_a_phone_number_is_refused(bad):
    assert "0161" in error_for("phone", phone=bad)


def test_a_phone_number_given_as_a_number_is_refused_because_its_leading_zero_is_gone():
    assert error_for("phone", phone=1619122000).startswith("phone: ")


def test_a_postcode_is_stored_in_its_canonical_form():
    assert cleaned("postcode", "m337zf") == "M33 7ZF"


def test_a_postcode_that_is_not_one_is_refused_with_an_example():
    assert error_for("postcode", postcode="M33 7ZZZ") == (
        "postcode: 'M33 7ZZZ' is not a UK postcode; enter one such as M33 7ZF"
    )


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------


def test_a_weekly_session_is_stored_with_slugs_and_24_hour_times():
    schedule = cleaned(
        "schedule",
        {
            "sessions": [
                {"day": "Tuesday", "start": "9.30", "end": "11:00"},
                {"day": "thu", "frequency": "First", "start": "14:00", "end": "16:00"},
            ],
            "notes": "<p>Term time only</p>",
        },
    )
    assert schedule == {
        "sessions": [
            {"day": "tuesday", "frequency": "weekly", "start": "09:30", "end": "11:00"},
            {"day": "thursday", "frequency": "first", "start": "14:00", "end": "16:00"},
        ],
        "notes": "Term time only",
    }


def test_a_schedule_can_come_as_json_text_from_a_csv_file():
    text = json.dumps({"sessions": [{"day": "friday", "frequency": "last"}], "notes": ""})
    schedule = cleaned("schedule", text)
    assert schedule["sessions"] == [
        {"day": "friday", "frequency": "last", "start": None, "end": None}
    ]


def test_a_schedule_in_plain_words_becomes_its_notes():
    assert cleaned("schedule", "Tuesdays 10 till 12, term time only") == {
        "sessions": [],
        "notes": "Tuesdays 10 till 12, term time only",
    }


def test_a_session_that_ends_before_it_starts_is_refused_by_number():
    schedule = {
        "sessions": [
            {"day": "monday", "start": "10:00", "end": "12:00"},
            {"day": "tuesday", "start": "10:00", "end": "09:00"},
        ]
    }
    assert error_for("schedule", schedule=schedule) == (
        "schedule: session 2: end 09:00 is before start 10:00; check the times"
    )


@pytest.mark.parametrize(
    ("session", "words"),
    [
        ({"day": "funday"}, "day 'funday' is not a day"),
        ({"start": "10:00"}, "day is missing"),
        ({"day": "monday", "frequency": "sometimes"}, "'sometimes' is not a frequency"),
        ({"day": "monday", "start": "25:00"}, "24-hour HH:MM"),
        ({"day": "monday", "start": "10am"}, "24-hour HH:MM"),
        ({"day": "monday", "room": "hall"}, "unknown key 'room'"),
        ("monday", "is not a session"),
    ],
)
def test_a_bad_session_says_which_session_and_what_is_wrong(session, words):
    message = error_for("schedule", schedule={"sessions": [session]})
    assert message.startswith("schedule: session 1: ")
    assert words in message


@pytest.mark.parametrize(
    "bad", ['{"sessions": [', {"sessions": "monday"}, {"session": []}, ["monday"], 42]
)
def test_a_schedule_in_the_wrong_shape_is_refused(bad):
    assert error_for("schedule", schedule=bad).startswith("schedule: ")


# ---------------------------------------------------------------------------------------------
# Service areas
# ---------------------------------------------------------------------------------------------

SALE_SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-2.33, 53.41], [-2.29, 53.41], [-2.29, 53.44], [-2.33, 53.44], [-2.33, 53.41]]
    ],
}


def test_a_service_area_polygon_is_accepted_as_geojson_or_json_text():
    assert cleaned("service_area", SALE_SQUARE)["type"] == "Polygon"
    assert (
        cleaned("service_area", json.dumps(SALE_SQUARE))["coordinates"]
        == (SALE_SQUARE["coordinates"])
    )


def test_a_multipolygon_service_area_is_accepted():
    multi = {"type": "MultiPolygon", "coordinates": [SALE_SQUARE["coordinates"]]}
    assert cleaned("service_area", multi)["type"] == "MultiPolygon"


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Point", "coordinates": [-2.3, 53.4]},
        {"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.2, 53.5]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},  # a bow tie
        {"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]},
        {"type": "Polygon", "coordinates": "somewhere in Sale"},
        {"type": "Polygon"},
        "{not json",
        "Sale and Altrincham",
        [1, 2, 3],
    ],
)
def test_a_service_area_that_is_not_a_valid_polygon_is_refused(bad):
    message = error_for("service_area", service_area=bad)
    assert message.startswith("service_area: ")


# ---------------------------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good", ["sale-walking-group", "trafford:libraries.42", "A_1", 42, "x" * 100]
)
def test_a_given_id_is_kept(good):
    assert cleaned("id", good) == str(good)


@pytest.mark.parametrize("bad", ["sale walking group", "x" * 101, "../etc/passwd", "id#1", "é"])
def test_an_id_with_other_characters_is_refused(bad):
    assert "leave it empty" in error_for("id", id=bad)


# ---------------------------------------------------------------------------------------------
# Whatever arrives, validation answers with messages, never an exception
# ---------------------------------------------------------------------------------------------

_ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["yes", "walking", "10:00", "M33 7ZF", "https://x.org", "[1]", "{}"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(fields.FIELD_NAMES), _ANY_VALUE))
@settings(max_examples=300, deadline=None)
def test_any_input_gets_a_full_record_and_messages_that_name_their_field(data):
    result = validate_asset(data)
    assert list(result.record) == list(fields.FIELD_NAMES)
    for name, message in {**result.errors, **result.warnings}.items():
        assert name in fields.FIELD_NAMES
        assert message.startswith(name), message
    assert result.ok == (not result.errors)
