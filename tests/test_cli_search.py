"""`assetmap search`: the same search as the API, printed as a table."""

from __future__ import annotations

import pytest

from assetmap import create_app
from tests.conftest import load_sample

POSTCODES = "postcode,lon,lat\nM33 7ZF,-2.32,53.425111\nWA14 1AH,-2.350212,53.387046\n"


@pytest.fixture
def cli(tmp_path, db_path):
    load_sample(db_path)
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(map(str, args)))

    (tmp_path / "postcodes.csv").write_text(POSTCODES)
    assert run("postcodes", "load", tmp_path / "postcodes.csv").exit_code == 0
    return run


def test_link_worker_searches_from_the_command_line(cli):
    result = cli("search", "--postcode", "m33 7zf", "--radius", "3", "--q", "walk")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "3 found within 3 km of M33 7ZF; showing 1 to 3"
    assert lines[1].split() == [
        "#",
        "distance",
        "walk",
        "name",
        "strand",
        "cost",
        "next",
        "session",
    ]
    assert lines[2].split()[:5] == ["1", "0.54", "km", "9", "min"]
    assert "<img src=x onerror=alert(1)>" in lines[2]  # printed as text
    assert lines[3].split()[:7] == ["2", "1.11", "km", "19", "min", "Sale", "Walking"]
    assert "Tuesday" in lines[3] and "10:00 to 12:00" in lines[3]
    assert "Closed Lunch Club" not in result.output  # closed assets are never found
    assert "Altrincham Library" not in result.output  # 4.7 km away


def test_the_table_lists_nearest_first_and_says_how_to_see_more(cli):
    result = cli("search", "--postcode", "M33 7ZF", "--radius", "10", "--limit", "2")
    lines = result.output.splitlines()
    assert lines[0] == "6 found within 10 km of M33 7ZF; showing 1 to 2"
    assert [line.split()[0] for line in lines[2:4]] == ["1", "2"]
    assert lines[-1] == "more: add --offset 2"
    following = cli("search", "--postcode", "M33 7ZF", "--radius", "10", "--offset", "2")
    assert following.output.splitlines()[2].startswith("3 ")


def test_filters_are_options_and_a_list_option_can_be_repeated(cli):
    result = cli(
        "search",
        "--lat",
        "53.42",
        "--lon",
        "-2.33",
        "--radius",
        "10",
        "--strand",
        "volunteer_peer_roles",
        "--strand",
        "strengthening_communities",
        "--day",
        "Tuesday",
        "--time",
        "morning",
        "--free",
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 found within 10 km of 53.42000, -2.33000")
    assert "Stretford Peer Support" in result.output
    assert "Partington Community Garden" in result.output


def test_nothing_found_says_so_without_a_table(cli):
    result = cli("search", "--postcode", "M33 7ZF", "--q", "trampolining")
    assert result.exit_code == 0
    assert result.output == "0 found within 2 km of M33 7ZF\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--postcode", "M33 7ZF", "--radius", "80"], "Invalid value for --radius: must be"),
        (["--postcode", "M33 7ZF", "--strand", "fun"], "Invalid value for --strand: 'fun'"),
        (["--postcode", "M33 7ZF", "--self-referral", "--time", "noon"], "--time"),
        (["--lat", "53.4"], "Invalid value for --lon: lon is needed with lat"),
        (["--postcode", "hello"], "Invalid value for --postcode: 'hello' is not a UK postcode"),
        (["--postcode", "SW1A 1AA"], "this directory's postcode table does not reach it"),
    ],
)
def test_a_bad_option_is_named_with_the_fix(cli, args, message):
    result = cli("search", *args)
    assert result.exit_code == 2
    assert message in result.output
