"""Named contacts, direct lines and internal notes reach link workers and coordinators only."""

from __future__ import annotations

import pytest

SECRETS = ("Sam Example", "07700 900123", "Sam prefers calls after 2pm")
OUTPUTS = [
    "/",
    "/map",
    "/assets/sale-walking-group",
    "/api/v1/assets",
    "/api/v1/assets/sale-walking-group",
    "/api/openapi.json",
]
SEES_PROFESSIONAL = {"link_worker", "coordinator"}


@pytest.mark.parametrize("role", [None, "admin", "coordinator", "link_worker"])
@pytest.mark.parametrize("url", OUTPUTS)
def test_each_output_shows_professional_details_only_to_those_who_need_them(
    client, sign_in, role, url
):
    if role:
        sign_in(client, role)
    text = client.get(url).get_data(as_text=True)
    expected_visible = url == "/assets/sale-walking-group" and role in SEES_PROFESSIONAL
    for secret in SECRETS:
        assert (secret in text) == expected_visible, (role, url, secret)


def test_public_exports_leave_professional_details_out(runner, tmp_path):
    for fmt in ("geojson", "csv"):
        out = tmp_path / f"public.{fmt}"
        assert runner.invoke(args=["export", fmt, str(out), "--public"]).exit_code == 0
        text = out.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text
        assert "contact_name" not in text


def test_the_full_export_keeps_them_for_backups(runner, tmp_path):
    out = tmp_path / "backup.geojson"
    runner.invoke(args=["export", "geojson", str(out)])
    assert "Sam Example" in out.read_text(encoding="utf-8")
