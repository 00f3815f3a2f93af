"""Files that imports keep (archived copies, uploads waiting): a quota; pruned with their run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assetmap import imports
from assetmap.imports import storage
from assetmap.imports.undo import undo_run
from assetmap.store import connect
from assetmap.store import imports as store
from tests.test_imports_support import files_dir, write_text
from tests.test_imports_web import AUDIT, make_app, signed_in, text_of, upload


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def small_quota_app(db_path):
    return make_app(db_path, WTF_CSRF_ENABLED=False, ASSETMAP_IMPORT_FILES_MB="0.01")


def test_an_upload_that_would_fill_the_import_folder_is_refused_and_not_kept(small_quota_app):
    client = signed_in(small_quota_app)
    big = AUDIT + "".join(
        f"W{n},Club {n},group,access_community_resources,M33 7ZF,\n" for n in range(400)
    )
    answer = upload(client, body=big)
    assert answer.status_code == 413
    words = text_of(answer)
    assert "There is no room for this file" in words
    assert "of the 0.0 MB allowed" in words and "assetmap imports prune" in words
    pending = files_dir(small_quota_app.config["ASSETMAP_DB"]) / "imports" / "pending"
    assert not pending.exists() or not any(pending.iterdir())


def test_a_small_upload_fits_the_quota(small_quota_app):
    client = signed_in(small_quota_app)
    assert upload(client).status_code == 302


def _run_at(db, run_id: int, when: datetime) -> None:
    stamp = when.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    db.conn.execute("UPDATE import_runs SET imported_at = ? WHERE id = ?", [stamp, run_id])


def test_pruning_removes_old_runs_archived_files_and_keeps_the_runs(db_path, tmp_path):
    db = connect(db_path)
    archive = tmp_path / "imports"
    old_file = write_text(tmp_path / "old.csv", AUDIT)
    new_file = write_text(tmp_path / "new.csv", AUDIT.replace("W1", "N1").replace("W2", "N2"))
    old = imports.apply(db, old_file, who="t", archive_dir=archive)
    new = imports.apply(db, new_file, who="t", archive_dir=archive)
    _run_at(db, old.run_id, datetime.now(UTC) - timedelta(days=400))
    old_copy = archive / store.get_run(db, old.run_id)["archived_as"]
    new_copy = archive / store.get_run(db, new.run_id)["archived_as"]
    orphan = archive / "0123456789abcdef-left-by-a-killed-import.csv"
    orphan.write_text("x" * 100)
    old_size = old_copy.stat().st_size
    pruned = storage.prune(db, archive, keep_days=365)
    assert (pruned.files, pruned.freed) == (2, old_size + 100)
    assert not old_copy.exists() and not orphan.exists()
    assert new_copy.exists()
    assert store.get_run(db, old.run_id)["archived_as"] is None
    assert store.get_run(db, old.run_id)["new_count"] == old.new  # the run stays
    assert undo_run(db, old.run_id, who="t").removed == old.new  # and can be undone
    db.close()


def test_a_copy_shared_by_an_old_and_a_recent_run_is_kept(db_path, tmp_path):
    db = connect(db_path)
    archive = tmp_path / "imports"
    audit = write_text(tmp_path / "audit.csv", AUDIT)
    first = imports.apply(db, audit, who="t", archive_dir=archive)
    second = imports.apply(db, audit, who="t", archive_dir=archive)  # same file, same copy
    _run_at(db, first.run_id, datetime.now(UTC) - timedelta(days=400))
    storage.prune(db, archive, keep_days=365)
    assert (archive / store.get_run(db, second.run_id)["archived_as"]).exists()
    db.close()


def test_the_prune_command_says_what_it_removed(db_path, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assetmap.cli import main

    monkeypatch.setenv("ASSETMAP_DB", str(db_path))
    monkeypatch.setenv("ASSETMAP_FILES_DIR", str(files_dir(db_path)))
    db = connect(db_path)
    audit = write_text(tmp_path / "audit.csv", AUDIT)
    run = imports.apply(db, audit, who="t", archive_dir=files_dir(db_path) / "imports")
    _run_at(db, run.run_id, datetime.now(UTC) - timedelta(days=40))
    db.close()
    result = CliRunner().invoke(main, ["imports", "prune", "--keep-days", "30"])
    assert result.exit_code == 0, result.output
    assert "Pruned import files: 1 file removed" in result.output


def test_a_second_import_at_the_same_time_is_asked_to_wait_and_keeps_its_preview(
    db_path,
):
    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    folder = files_dir(app.config["ASSETMAP_DB"]) / "imports"
    with storage.one_at_a_time(folder):  # another request is importing
        refused = upload(client)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert "Another import is being checked or saved just now" in text_of(refused)
    preview = upload(client)
    assert preview.status_code == 302
    confirm = preview.headers["Location"] + "/confirm"
    with storage.one_at_a_time(folder):
        waiting = client.post(confirm)
        assert waiting.headers["Location"] == preview.headers["Location"]
        assert "Nothing was imported; try again" in text_of(client.get(waiting.headers["Location"]))
    done = client.post(confirm)
    assert "/manage/imports/runs/" in done.headers["Location"]


def test_the_configured_row_limit_reaches_the_import_page(db_path):
    app = make_app(db_path, WTF_CSRF_ENABLED=False, ASSETMAP_IMPORT_MAX_ROWS="2")
    refused = upload(signed_in(app))
    assert refused.status_code == 400
    assert "ASSETMAP_IMPORT_MAX_ROWS" in text_of(refused)


def test_a_limit_that_is_not_a_number_stops_the_app_at_start(db_path):
    with pytest.raises(ValueError, match="ASSETMAP_IMPORT_MAX_ROWS: 'lots' is not"):
        make_app(db_path, ASSETMAP_IMPORT_MAX_ROWS="lots")
