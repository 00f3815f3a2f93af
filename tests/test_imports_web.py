"""The coordinators' import page: upload, preview, confirm, rejected rows, undo.

The blueprint is registered here on a fresh app; create_app registers it too once it is wired
in, and then registering it again is skipped.
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.store import connect
from assetmap.web import imports as import_views
from assetmap.web.guard import permission_for
from tests.conftest import add_user, give_session
from tests.test_imports_support import (
    BAD,
    asset_named,
    files_dir,
    fingerprint,
)

AUDIT = (
    "Ref,Name,Kind,Strand,Postcode,Phone\n"
    "W1,Sale Film Club,group,access_community_resources,M33 7ZF,0161 912 1234\n"
    'W2,=HYPERLINK("http://evil.example"),group,access_community_resources,M33 7ZF,\n'
)


def make_app(db_path, **config):
    app = create_app(
        {
            "ASSETMAP_DB": str(db_path),
            "ASSETMAP_FILES_DIR": str(files_dir(db_path)),
            "SECRET_KEY": "test-only",
            "TESTING": True,
            **config,
        }
    )
    if "imports" not in app.blueprints:
        app.register_blueprint(import_views.bp)
    return app


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def app(db_path):
    return make_app(db_path, WTF_CSRF_ENABLED=False)


def signed_in(app, role="coordinator", email=None):
    user = add_user(app.config["ASSETMAP_DB"], role, email)
    client = app.test_client()
    give_session(client, app.config["ASSETMAP_DB"], user)
    return client


def upload(client, name="film.csv", body=AUDIT, **fields):
    data = {"file": (io.BytesIO(body.encode() if isinstance(body, str) else body), name)}
    data.update(fields)
    return client.post("/manage/imports/", data=data, content_type="multipart/form-data")


def text_of(response) -> str:
    """The words of a page's main part, as a screen reader would read them."""
    page = response.get_data(as_text=True)
    main = page[page.index("<main") :]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", main).split()))


def test_every_import_page_needs_the_import_permission(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("imports.")]
    assert len(rules) == 10
    assert {permission_for(app, r.endpoint) for r in rules} == {"import_assets"}


def test_link_workers_cannot_import_and_visitors_are_sent_to_sign_in(app):
    assert signed_in(app, "link_worker").get("/manage/imports/").status_code == 403
    visitor = app.test_client().get("/manage/imports/")
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
    assert upload(app.test_client()).status_code == 401


def test_a_coordinator_previews_an_audit_then_imports_it(app, db_path):
    client = signed_in(app)
    before = fingerprint(db_path)
    uploaded = upload(client)
    assert uploaded.status_code == 302
    preview = client.get(uploaded.headers["Location"])
    page = text_of(preview)
    assert "Check the import of “film.csv” Nothing has been saved yet." in page
    assert "New assets 1 Changed assets 0 Unchanged 0 Rejected rows 1" in page
    assert (
        "Rejected rows: 1 row These rows will not be imported. Fix them in the spreadsheet (or "
        "in the rejected-rows CSV) and import them again."
    ) in page
    assert (
        '3 B (Name) =HYPERLINK("http://evil.example") \'=HYPERLINK("http://evil.example")\' '
        "is a spreadsheet formula, not a value."
    ) in page
    assert fingerprint(db_path) == before  # nothing yet
    confirmed = client.post(uploaded.headers["Location"] + "/confirm")
    assert confirmed.status_code == 302
    run_page = client.get(confirmed.headers["Location"])
    assert (
        "Imported film.csv: 1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates."
        in text_of(run_page)
    )
    db = connect(db_path)
    film = asset_named(db, "Film Club")
    db.close()
    assert film["phone"] == "0161 912 1234"
    assert film["source"] == "film"
    # The pending upload is gone; the original is kept beside the database.
    imports_dir = files_dir(db_path) / "imports"
    assert [p.name for p in (imports_dir / "pending").iterdir()] == []
    archived = [p for p in imports_dir.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert len(archived) == 1  # (beside the lock that keeps imports one at a time)


def test_the_run_page_shows_what_each_row_kept_as_extra_information(app):
    client = signed_in(app)
    body = AUDIT.replace("Phone\n", "Phone,Funding stream\n").replace(
        "0161 912 1234\n", "0161 912 1234,Lottery & Council\n"
    )
    uploaded = upload(client, body=body)
    confirmed = client.post(uploaded.headers["Location"] + "/confirm")
    page = client.get(confirmed.headers["Location"])
    assert "Extra information: Funding stream: Lottery & Council" in text_of(page)
    assert "Lottery &amp; Council" in page.get_data(as_text=True)  # escaped like any user text


def test_the_rejected_rows_download_neutralises_formulas(app):
    client = signed_in(app)
    uploaded = upload(client)
    with client.get(uploaded.headers["Location"] + "/rejected.csv") as response:
        assert response.headers["Content-Disposition"].endswith("film-rejected-rows.csv")
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["error", "source", "Ref", "Name", "Kind", "Strand", "Postcode", "Phone"]
    assert rows[1][1:4] == ["film", "W2", '\'=HYPERLINK("http://evil.example")']
    client.post(uploaded.headers["Location"] + "/confirm")
    run_answer = client.get("/manage/imports/runs/1/rejected.csv")
    assert run_answer.headers["Content-Type"] == "text/csv; charset=utf-8"  # named once
    assert list(csv.reader(io.StringIO(run_answer.get_data(as_text=True)))) == rows


def test_undo_from_the_run_page_puts_everything_back(app, db_path):
    client = signed_in(app)
    before = connect(db_path)
    assets_before = before.conn.execute("SELECT count(*) FROM assets").fetchone()[0]
    before.close()
    uploaded = upload(client)
    client.post(uploaded.headers["Location"] + "/confirm")
    page = text_of(client.get("/manage/imports/runs/1"))
    assert "Undo this import Removes the 1 asset it added" in page
    undone = client.post("/manage/imports/runs/1/undo")
    assert undone.status_code == 302
    assert "Undid import run 1: 1 asset removed, 0 restored." in text_of(
        client.get("/manage/imports/runs/1")
    )
    after = connect(db_path)
    assert after.conn.execute("SELECT count(*) FROM assets").fetchone()[0] == assets_before
    after.close()


@pytest.mark.parametrize("name", ["food.zip", "food"], ids=["named .zip", "no extension"])
def test_a_zipped_shapefile_uploads_and_imports_like_any_other_file(app, db_path, name):
    # The upload is kept under a name of its own, without the .zip the file was sent with.
    client = signed_in(app)
    uploaded = upload(client, name, (BAD / "shapefile_without_prj.zip").read_bytes())
    assert uploaded.status_code == 302
    page = text_of(client.get(uploaded.headers["Location"]))
    assert "New assets 2 Changed assets 0 Unchanged 0 Rejected features 0" in page
    confirmed = client.post(uploaded.headers["Location"] + "/confirm")
    assert "2 new, 0 changed, 0 unchanged, 0 rejected" in text_of(
        client.get(confirmed.headers["Location"])
    )


def test_a_bad_file_is_explained_on_the_upload_page_and_nothing_is_kept(app, db_path):
    client = signed_in(app)
    before = fingerprint(db_path)
    response = upload(client, "old.xls", (BAD / "old_excel.xls").read_bytes())
    assert response.status_code == 400
    assert (
        "There is a problem; nothing has been imported old.xls is an old Excel 97-2003 workbook "
        "(.xls), which cannot be read. In Excel choose File > Save As, pick Excel Workbook "
        "(.xlsx) or CSV UTF-8, and import that file."
    ) in text_of(response)
    assert fingerprint(db_path) == before
    assert list((files_dir(db_path) / "imports" / "pending").iterdir()) == []
    missing = upload(client, "", b"")
    assert "Choose a file to import." in text_of(missing)


def test_an_upload_over_the_size_limit_gets_a_413_that_says_the_limit(db_path):
    app = make_app(db_path, WTF_CSRF_ENABLED=False, ASSETMAP_MAX_UPLOAD_MB="0.01")
    response = upload(signed_in(app), body="x" * 20_000)
    assert response.status_code == 413
    assert "The largest file or form accepted is 0.01 MB." in response.get_data(as_text=True)


def test_a_preview_belongs_to_the_coordinator_who_uploaded_it(app):
    uploaded = upload(signed_in(app))
    someone_else = signed_in(app, email="other@example.org")
    assert someone_else.get(uploaded.headers["Location"]).status_code == 404
    assert someone_else.post(uploaded.headers["Location"] + "/confirm").status_code == 404
    assert someone_else.get("/manage/imports/preview/../../etc").status_code == 404


def test_a_file_changed_on_disk_after_its_preview_is_not_imported(app, db_path):
    client = signed_in(app)
    uploaded = upload(client)
    token = uploaded.headers["Location"].rsplit("/", 1)[1]
    pending = files_dir(db_path) / "imports" / "pending" / token
    pending.write_bytes(pending.read_bytes().replace(b"Film", b"Fish"))
    before = fingerprint(db_path)
    confirmed = client.post(uploaded.headers["Location"] + "/confirm")
    assert "Nothing was imported: film.csv is not the file that was previewed" in text_of(
        client.get(confirmed.headers["Location"])
    )
    assert fingerprint(db_path) == before


def test_cancel_throws_the_upload_away(app, db_path):
    client = signed_in(app)
    uploaded = upload(client)
    cancelled = client.post(uploaded.headers["Location"] + "/cancel")
    assert cancelled.status_code == 302
    assert client.get(uploaded.headers["Location"]).status_code == 404


def test_every_form_needs_its_csrf_token(db_path):
    app = make_app(db_path)
    client = signed_in(app)
    assert upload(client).status_code == 400
    page = client.get("/manage/imports/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert upload(client, csrf_token=token).status_code == 302


def test_the_pages_have_no_inline_scripts_or_styles(app):
    client = signed_in(app)
    uploaded = upload(client)
    pages = [
        client.get("/manage/imports/"),
        client.get(uploaded.headers["Location"]),
    ]
    client.post(uploaded.headers["Location"] + "/confirm")
    pages.append(client.get("/manage/imports/runs/1"))
    for page in pages:
        html = page.get_data(as_text=True)
        assert "<script" not in html and " style=" not in html and "<style" not in html


def test_a_mapping_file_can_be_uploaded_with_the_audit(app, db_path):
    client = signed_in(app)
    response = upload(
        client,
        "free_text_type.csv",
        (BAD / "free_text_type.csv").read_bytes(),
        mapping=(io.BytesIO((BAD / "type_mapping.toml").read_bytes()), "type_mapping.toml"),
    )
    page = text_of(client.get(response.headers["Location"]))
    assert "Source recorded on each asset type-audit" in page
    bad = upload(
        client,
        mapping=(io.BytesIO((BAD / "bad_mapping.toml").read_bytes()), "bad_mapping.toml"),
    )
    # The audit is kept, and its columns can be chosen on the page instead.
    assert bad.status_code == 302 and bad.headers["Location"].endswith("/columns")
    assert (
        "The mapping file bad_mapping.toml [columns] \"Type\" = 'kinds': that is not a field."
    ) in text_of(client.get(bad.headers["Location"]))


def test_the_template_can_be_downloaded(app):
    response = signed_in(app).get("/manage/imports/template.csv")
    template = Path(__file__).resolve().parent.parent / "docs" / "import-template.csv"
    assert response.data == template.read_bytes()
