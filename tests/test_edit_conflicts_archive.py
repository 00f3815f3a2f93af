"""Archiving a listing someone changed after the page was opened is refused, as a stale save is.

The Archive button on the asset page and "Close (archive)" in the review queue carry the
version the page was rendered at; archiving over a newer version does nothing and answers 409
with who changed what since, and the button on a page opened again does it on purpose.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import escape

from assetmap.store import assets as store
from assetmap.store import connect
from tests.conftest import HOSTILE_NAME
from tests.test_edit_conflicts import OTHER, snapshot


@pytest.fixture
def coordinator(client, sign_in):
    sign_in(client, "coordinator")
    return client


class _Forms(HTMLParser):
    """The hidden fields of each form on a page, by the form's action, as a browser sends them."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._fields: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._fields = self.forms.setdefault(attrs.get("action", ""), {})
        elif tag == "input" and self._fields is not None and attrs.get("type") == "hidden":
            self._fields[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None


def archive_button(client, page_url: str, asset_id: str) -> dict[str, str]:
    """What pressing the asset's archive button on the page sends (its hidden fields)."""
    response = client.get(page_url)
    assert response.status_code == 200
    forms = _Forms()
    forms.feed(response.get_data(as_text=True))
    return forms.forms[f"/manage/assets/{asset_id}/archive"]


def change_elsewhere(db_path, asset_id: str, **changes) -> None:
    """Another coordinator's save to the asset after the page was opened."""
    db = connect(db_path)
    try:
        record = {**store.get_asset(db, asset_id), **changes}
        assert store.save_asset(db, record, who=OTHER, why="elsewhere") == store.CHANGED
    finally:
        db.close()


def archived(db_path, asset_id: str) -> bool:
    db = connect(db_path)
    try:
        return store.get_asset(db, asset_id)["archived"]
    finally:
        db.close()


@pytest.mark.parametrize("archive_first", [False, True], ids=["archive", "bring-back"])
def test_archiving_from_an_asset_page_opened_before_a_colleagues_change_is_refused(
    coordinator, db_path, archive_first
):
    asset_id, page = "altrincham-library", "/assets/altrincham-library"
    if archive_first:
        change_elsewhere(db_path, asset_id, archived=True)
    pressed = archive_button(coordinator, page, asset_id)
    change_elsewhere(db_path, asset_id, phone="0161 912 5000", name=HOSTILE_NAME)
    before = snapshot(db_path)
    response = coordinator.post(f"/manage/assets/{asset_id}/archive", data=pressed)
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert snapshot(db_path) == before
    refused = "Not brought back from the archive" if archive_first else "Not archived"
    assert f"{refused}: {OTHER} changed this asset after you opened this page" in text
    assert "0161 912 5000" in text  # what changed, field by field
    assert HOSTILE_NAME not in text and str(escape(HOSTILE_NAME)) in text  # text, never markup
    again = archive_button(coordinator, page, asset_id)
    response = coordinator.post(f"/manage/assets/{asset_id}/archive", data=again)
    assert response.status_code == 302
    assert archived(db_path, asset_id) is not archive_first


def test_closing_from_a_review_queue_opened_before_a_colleagues_change_is_refused(
    coordinator, db_path
):
    asset_id = "sale-walking-group"
    pressed = archive_button(coordinator, "/manage/review", asset_id)
    db = connect(db_path)
    try:
        assert int(pressed["version"]) == store.asset_version(db, asset_id)
    finally:
        db.close()
    change_elsewhere(db_path, asset_id, description="Now meets at the water park on Sundays.")
    before = snapshot(db_path)
    response = coordinator.post(f"/manage/assets/{asset_id}/archive", data=pressed)
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert snapshot(db_path) == before
    assert f"Not archived: {OTHER} changed this asset after you opened this page" in text
    assert "Now meets at the water park on Sundays." in text
    again = archive_button(coordinator, "/manage/review", asset_id)
    response = coordinator.post(f"/manage/assets/{asset_id}/archive", data=again)
    assert response.status_code == 302
    assert archived(db_path, asset_id) is True
