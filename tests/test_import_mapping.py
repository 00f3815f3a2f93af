"""The import's mapping step: a coordinator whose audit has no kind or strand column chooses
what its columns hold on the page, imports it, and the next copy imports with no choosing;
the mapping chosen is a mapping file the command line reads."""

from __future__ import annotations

import io
import re
import tomllib

import pytest

from assetmap.imports import ImportFileError, Mapping, load_mapping
from assetmap.imports.mapping import mapping_text, parse_mapping
from assetmap.imports.suggest import (
    CATEGORY_WORDS,
    KIND_WORDS,
    STRAND_WORDS,
    chosen_columns,
    current_choices,
    data_from_choices,
    read_sample,
    suggest_for_value,
)
from assetmap.record import taxonomy
from assetmap.store import connect
from tests.test_imports_support import asset_named, fingerprint
from tests.test_imports_web import make_app, signed_in, text_of, upload

# Shaped like the audit that needed a hand-written mapping file: a "Type" column in words, a
# "Contact" column holding an email, a phone or a web address, times in free text, and no
# kind or strand anywhere.
AUDIT = (
    "Ref,Name,Type,Postcode,When,Contact\n"
    "T1,Sale Walking for Health,Walking group,M33 7ZF,Saturdays 9-12,walks@example.org\n"
    "T2,Stretford Food Bank,Food bank,M32 0AB,12-2,0161 912 3456\n"
    "T3,Altrincham Lunch Club,Lunch club,WA14 1PF,10-3,www.altylunch.example\n"
    "T4,Partington Debt Advice,Advice service,M31 4BX,Mondays 10:00-12:00,advice@example.org\n"
)
# The next copy of the same audit: one new row, one changed.
NEXT_COPY = AUDIT.replace("Partington Debt Advice", "Partington Money Advice") + (
    "T5,Sale Nordic Walkers,Walking group,M33 7ZF,Thursdays 2pm-4pm,nordic@example.org\n"
)
# A later copy with a kind of thing the saved mapping has not met.
WITH_NEW_TYPE = NEXT_COPY + (
    "T6,Sale Knit and Natter,Craft group,M33 7ZF,Fridays,knit@example.org\n"
)


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def app(db_path):
    return make_app(db_path, WTF_CSRF_ENABLED=False)


def choices_on(page: str) -> dict[str, str]:
    """The form's fields as the page preselects them, as a browser would send them."""
    sent = {}
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        sent[name] = chosen.group(1) if chosen else ""
    return sent


def test_an_audit_without_kind_or_strand_is_mapped_on_the_page_and_the_next_copy_is_not(
    app, db_path
):
    client = signed_in(app)
    before = fingerprint(db_path)
    # Screen 1: upload. The file is refused for its columns, kept, and the mapping step shown.
    uploaded = upload(client, "community-audit.csv", AUDIT, source="community-audit")
    assert uploaded.status_code == 302 and uploaded.headers["Location"].endswith("/columns")
    mapping_page = client.get(uploaded.headers["Location"])
    assert mapping_page.status_code == 200
    words = text_of(mapping_page)
    assert "community-audit.csv has no column for the kind or the strand" in words
    assert "The file is kept: choose below what its columns hold" in words
    page = mapping_page.get_data(as_text=True)
    sent = choices_on(page)
    # The likely field of each column is preselected; "Type" is offered value by value.
    assert sent["column-0"] == "source_id" and sent["column-1"] == "name"
    assert sent["column-2"] == "values" and sent["column-3"] == "postcode"
    assert sent["column-4"] == "schedule"
    assert sent["kind"] == "" and sent["strand"] == "access_community_resources"
    assert [sent[f"value-2-{n}-kind"] for n in range(4)] == ["group", "service", "group", "service"]
    assert [sent[f"value-2-{n}-category"] for n in range(4)] == [
        "walking", "food_support", "lunch_clubs_food", "money_debt",
    ]  # fmt: skip
    # Screen 2: the coordinator checks what the choices do, then uses them.
    shown = client.post(uploaded.headers["Location"], data={**sent, "action": "update"})
    assert shown.status_code == 200
    assert "1 Sale Walking for Health" not in text_of(shown)  # rows are numbered as in the file
    assert "2 Sale Walking for Health group access_community_resources walking M33 7ZF" in text_of(
        shown
    )
    assert fingerprint(db_path) == before
    used = client.post(uploaded.headers["Location"], data={**sent, "action": "use"})
    assert used.status_code == 302 and "/columns" not in used.headers["Location"]
    preview = text_of(client.get(used.headers["Location"]))
    assert "Using the columns you chose; change them" in preview
    assert "New assets 4 Changed assets 0 Unchanged 0 Rejected rows 0" in preview
    assert fingerprint(db_path) == before
    # Screen 3: import.
    confirmed = client.post(used.headers["Location"] + "/confirm")
    assert "Imported community-audit.csv: 4 new" in text_of(
        client.get(confirmed.headers["Location"])
    )
    db = connect(db_path)
    walking = asset_named(db, "Sale Walking for Health")
    food = asset_named(db, "Stretford Food Bank")
    db.close()
    assert (walking["kind"], walking["strand"]) == ("group", "access_community_resources")
    assert (food["kind"], food["categories"]) == ("service", ["food_support"])
    # The next copy of the same audit imports straight to the preview, with the saved mapping.
    again = upload(client, "community-audit-march.csv", NEXT_COPY, source="community-audit")
    assert "/columns" not in again.headers["Location"]
    preview = text_of(client.get(again.headers["Location"]))
    assert re.search(
        r"Using the mapping saved for community-audit on \d{4}-\d\d-\d\d; change it", preview
    )
    assert "New assets 1 Changed assets 1 Unchanged 3 Rejected rows 0" in preview
    confirmed = client.post(again.headers["Location"] + "/confirm")
    assert "1 new, 1 changed, 3 unchanged" in text_of(client.get(confirmed.headers["Location"]))
    db = connect(db_path)
    nordic = asset_named(db, "Sale Nordic Walkers")
    db.close()
    assert (nordic["kind"], nordic["strand"]) == ("group", "access_community_resources")
    assert nordic["categories"] == ["walking"]


def test_a_value_the_saved_mapping_has_not_met_is_chosen_on_the_page_from_the_preview(app):
    client = signed_in(app)
    first = upload(client, "a.csv", AUDIT, source="community-audit")
    sent = choices_on(client.get(first.headers["Location"]).get_data(as_text=True))
    sent["strand"] = "volunteer_peer_roles"
    used = client.post(first.headers["Location"], data={**sent, "action": "use"})
    client.post(used.headers["Location"] + "/confirm")
    later = upload(client, "b.csv", WITH_NEW_TYPE, source="community-audit")
    preview = client.get(later.headers["Location"])
    assert "7 C (Type) Craft group kind is required" in text_of(preview)
    change = re.search(r'<a href="([^"]+/columns)">change it</a>', preview.get_data(as_text=True))
    page = client.get(change.group(1)).get_data(as_text=True)
    again = choices_on(page)
    # What was chosen before is kept; the new value is suggested from its words.
    assert again["strand"] == "volunteer_peer_roles"
    assert again["value-2-0-kind"] == "group"  # "Walking group", the commonest now
    craft = re.search(r'<th scope="row" id="(value-2-\d+)">Craft group</th>', page).group(1)
    assert (again[f"{craft}-kind"], again[f"{craft}-category"]) == ("group", "arts_creativity")
    used = client.post(change.group(1), data={**again, "action": "use"})
    assert "New assets 2 Changed assets 1 Unchanged 3 Rejected rows 0" in text_of(
        client.get(used.headers["Location"])
    )


def _mapped(client, body=AUDIT, name="community-audit.csv", **fields):
    """Upload an audit, use the page's preselected choices: the preview's address."""
    uploaded = upload(client, name, body, **fields)
    sent = choices_on(client.get(uploaded.headers["Location"]).get_data(as_text=True))
    used = client.post(uploaded.headers["Location"], data={**sent, "action": "use"})
    assert used.status_code == 302, text_of(used)
    return used.headers["Location"]


def test_the_mapping_chosen_downloads_as_a_file_the_command_line_reads(app, db_path, tmp_path):
    client = signed_in(app)
    preview = _mapped(client, source="community-audit")
    download = client.get(preview + "/mapping.toml")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/toml; charset=utf-8"
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="community-audit-mapping.toml"'
    )
    text = download.get_data(as_text=True)
    assert '[values."Type"]' in text and 'strand = "access_community_resources"' in text
    kept = tmp_path / "community-audit-mapping.toml"
    kept.write_text(text, encoding="utf-8")
    read_back = load_mapping(kept)
    assert read_back.defaults == {"strand": "access_community_resources"}
    assert read_back.values["type"].entries["food bank"] == {
        "kind": "service", "categories": ["food_support"],
    }  # fmt: skip
    # The command line imports the same audit with it exactly as the page would.
    audit = tmp_path / "community-audit.csv"
    audit.write_text(AUDIT, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", str(audit), "--mapping", str(kept), "--dry-run"])
    assert result.exit_code == 0, result.output
    page = text_of(client.get(preview))
    assert "New assets 4 Changed assets 0 Unchanged 0 Rejected rows 0" in page
    assert "Preview, nothing changed: 4 new, 0 changed, 0 unchanged, 0 rejected" in result.output


@pytest.mark.parametrize(
    "data",
    [
        {"columns": {'Say "hi"': "name", "Café \\ bar": "extra", "Notes\tfor us": "ignore"}},
        {"values": {"Type": {"Walking group": {"kind": "group", "categories": ["walking"]},
                             "*": {"kind": "activity"}}},
         "defaults": {"strand": "volunteer_peer_roles", "self_referral": True, "min_age": 18},
         "empty": {"also": ["TBC", "ask Jo"]}, "source": "trafford-audit", "sheet": "Assets"},
    ],
)  # fmt: skip
def test_a_mapping_written_as_toml_reads_back_the_same(data):
    text = mapping_text(data)
    assert tomllib.loads(text) == data
    assert parse_mapping(tomllib.loads(text)) == parse_mapping(data)


def test_a_mapping_that_would_not_read_back_is_never_written():
    with pytest.raises(ImportFileError, match="'kinds': that is not a field"):
        mapping_text({"columns": {"Type": "kinds"}})


def test_every_suggested_slug_is_in_the_taxonomy():
    assert set(KIND_WORDS) <= taxonomy.slugs(taxonomy.KINDS)
    assert set(STRAND_WORDS) <= set(taxonomy.STRANDS_BY_SLUG)
    assert set(CATEGORY_WORDS) <= taxonomy.slugs(taxonomy.CATEGORIES)


@pytest.mark.parametrize(
    ("value", "texts", "expected"),
    [
        ("Walking group", [], {"kind": "group", "category": "walking"}),
        ("Food bank", ["Stretford Food Bank"], {"kind": "service", "category": "food_support"}),
        ("Befriending", ["Volunteers visit older people at home"],
         {"kind": "volunteering", "strand": "volunteer_peer_roles",
          "category": "befriending_social"}),
        ("Residents forum", [], {"kind": "group", "strand": "collaborations_partnerships"}),
        ("Other", [], {}),
    ],
)  # fmt: skip
def test_values_suggest_a_kind_strand_and_category_from_their_words(value, texts, expected):
    found = suggest_for_value(value, texts)
    found.pop("strand", None) if "strand" not in expected else None
    assert found == expected


def test_headings_that_look_like_known_ones_are_preselected(tmp_path):
    audit = tmp_path / "audit.csv"
    audit.write_text(
        "Group,Postcodes,Telephone no,Notes,Category of group\n"
        "Sale Sewing Bee,M33 7ZF,0161 912 1234,Bring a machine,Craft\n",
        encoding="utf-8",
    )
    chosen, defaults = current_choices(read_sample(audit), Mapping())
    assert [(c.header, c.target) for c in chosen] == [
        ("Group", "extra"),  # a word, not a field: "group name" is
        ("Postcodes", "postcode"),
        ("Telephone no", "phone"),
        ("Notes", "extra"),
        ("Category of group", "values"),  # nothing else says the kind: offered value by value
    ]
    assert chosen[1].why == "looks like “postcode”"
    assert [(v.value, v.chosen) for v in chosen[4].values] == [
        ("Craft", {"category": "arts_creativity"})
    ]


def test_a_refused_mapping_file_keeps_the_upload_and_links_the_guide(app, db_path):
    client = signed_in(app)
    before = fingerprint(db_path)
    uploaded = upload(
        client,
        "community-audit.csv",
        AUDIT,
        mapping=(io.BytesIO(b'[columns]\n"Type" = "kinds"\n'), "type.toml"),
    )
    assert uploaded.status_code == 302 and uploaded.headers["Location"].endswith("/columns")
    page = client.get(uploaded.headers["Location"])
    words = text_of(page)
    assert "The mapping file type.toml [columns] \"Type\" = 'kinds': that is not a field." in words
    assert "The file is kept" in words
    bad_toml = upload(
        client, "community-audit.csv", AUDIT, mapping=(io.BytesIO(b"[columns\n"), "broken.toml")
    )
    html = client.get(bad_toml.headers["Location"]).get_data(as_text=True)
    assert 'See <a href="/manage/imports/guide">docs/importing.md</a> for the format' in html
    guide = client.get("/manage/imports/guide")
    assert guide.status_code == 200
    assert "<h1>" in guide.get_data(as_text=True) and "[columns]" in guide.get_data(as_text=True)
    index = client.get("/manage/imports/").get_data(as_text=True)
    assert '<a href="/manage/imports/guide">the guide to importing</a>' in index
    assert fingerprint(db_path) == before


def test_the_page_shows_what_the_file_says_as_text(app):
    hostile = (
        "Ref,Name,<b>Type</b>,Postcode\n"
        'X1,"<script>alert(1)</script> club",<img src=x onerror=alert(1)>,M33 7ZF\n'
    )
    client = signed_in(app)
    uploaded = upload(client, "hostile.csv", hostile)
    html = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>Type" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;Type&lt;/b&gt;" in html


def test_a_choice_not_on_the_list_is_refused_and_nothing_is_kept(app, db_path):
    client = signed_in(app)
    uploaded = upload(client, "community-audit.csv", AUDIT)
    sent = choices_on(client.get(uploaded.headers["Location"]).get_data(as_text=True))
    for name, value in (("column-1", "password"), ("kind", "spaceship"), ("value-2-0-strand", "x")):
        answer = client.post(
            uploaded.headers["Location"], data={**sent, name: value, "action": "use"}
        )
        assert answer.status_code == 400
        assert "is not" in text_of(answer) and "There is a problem with these choices" in text_of(
            answer
        )
    # Nothing was taken: the upload still has no mapping, and can still be mapped.
    assert (
        client.get(uploaded.headers["Location"][: -len("/columns")] + "/mapping.toml").status_code
        == 404
    )


def test_the_mapping_step_is_for_coordinators_and_needs_its_csrf_token(app, db_path):
    client = signed_in(app)
    uploaded = upload(client, "community-audit.csv", AUDIT)
    link_worker = signed_in(app, "link_worker")
    assert link_worker.get(uploaded.headers["Location"]).status_code == 403
    assert (
        signed_in(app, email="other@example.org").get(uploaded.headers["Location"]).status_code
        == 404
    )
    strict = make_app(db_path)
    strict_client = signed_in(strict)
    page = strict_client.get("/manage/imports/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    kept = upload(strict_client, "community-audit.csv", AUDIT, csrf_token=token)
    assert strict_client.post(kept.headers["Location"], data={"action": "use"}).status_code == 400


def test_the_preview_offers_the_mapping_step_for_headings_it_does_not_recognise(app):
    client = signed_in(app)
    audit = (
        "Ref,Name,Kind,Strand,Postcode,Reach us,Funding stream\n"
        "K1,Sale Sewing Bee,group,access_community_resources,M33 7ZF,jo@example.org,Lottery\n"
    )
    uploaded = upload(client, "sewing.csv", audit)
    assert "/columns" not in uploaded.headers["Location"]  # nothing is missing: straight on
    page = client.get(uploaded.headers["Location"])
    assert (
        "2 columns of the file were not recognised and are kept with each row as extra "
        "information: F (Reach us), G (Funding stream). Choose what they hold ."
    ) in text_of(page)
    link = re.search(
        r'<a href="([^"]+/columns)">Choose what they hold', page.get_data(as_text=True)
    )
    mapping_page = client.get(link.group(1))
    sent = choices_on(mapping_page.get_data(as_text=True))
    assert sent["column-5"] == "extra"
    sent["column-5"] = "email"
    used = client.post(link.group(1), data={**sent, "action": "use"})
    preview = text_of(client.get(used.headers["Location"]))
    assert "1 column of the file was not recognised" in preview and "G (Funding stream)" in preview
    assert "F Reach us email" in preview


def test_the_newest_mapping_saved_for_a_source_is_used_and_one_that_no_longer_reads_is_said(
    app, db_path
):
    from assetmap.store import mappings

    db = connect(db_path)
    mappings.save(db, "community-audit", {"defaults": {"kind": "place"}}, saved_by="a@example.org")
    mappings.save(db, "community-audit", {"columns": {"Type": "kinds"}}, saved_by="b@example.org")
    assert mappings.newest(db, "community-audit")["saved_by"] == "b@example.org"
    assert mappings.newest(db, "another-audit") is None
    db.close()
    client = signed_in(app)
    uploaded = upload(client, "community-audit.csv", AUDIT, source="community-audit")
    assert uploaded.headers["Location"].endswith("/columns")
    assert (
        "The mapping file saved for community-audit [columns] \"Type\" = 'kinds': that is not a "
        "field."
    ) in text_of(client.get(uploaded.headers["Location"]))


def test_saved_mappings_are_listed_and_download_from_the_import_page(app, tmp_path):
    client = signed_in(app)
    preview = _mapped(client, source="community-audit")
    run = client.get(client.post(preview + "/confirm").headers["Location"])
    assert "The columns you chose are saved for the next copy of community-audit." in text_of(run)
    index = client.get("/manage/imports/")
    assert "Mappings saved for the next copy of an audit" in text_of(index)
    link = re.search(
        r'href="([^"]+)">Download the mapping for community-audit', index.get_data(as_text=True)
    )
    download = client.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    kept = tmp_path / "kept.toml"
    kept.write_bytes(download.data)
    assert load_mapping(kept).defaults == {"strand": "access_community_resources"}
    assert client.get("/manage/imports/mappings/saved.toml?source=nothing").status_code == 404


@pytest.mark.parametrize(
    ("headings", "target", "message"),
    [
        ("Ref,Name,,Postcode", "email", "column C has no heading, so a mapping cannot name it"),
        ("Ref,Name,Notes,Notes", "email", "columns C and D are both headed “Notes”"),
    ],
)
def test_a_choice_a_mapping_cannot_hold_is_refused_not_dropped(tmp_path, headings, target, message):
    audit = tmp_path / "audit.csv"
    audit.write_text(f"{headings}\nR1,Sale Sewing Bee,a@example.org,M33 7ZF\n", encoding="utf-8")
    sample = read_sample(audit)
    chosen = chosen_columns(sample, {0: "source_id", 1: "name", 2: target, 3: "postcode"})
    with pytest.raises(ImportFileError, match=message):
        data_from_choices(sample, chosen, {"kind": "group", "strand": "volunteer_peer_roles"})
