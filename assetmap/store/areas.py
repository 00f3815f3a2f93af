"""Areas (LSOA, MSOA, ward boundaries), their need and population, for coverage (issue 18).

Boundaries are kept by level and code, their shapes as GeoJSON in WGS84. Loading a level
again replaces that level's areas whole: a new boundary file supersedes the old one, and an
area that the new file no longer has must not linger. Need (IMD rank and decile) and
population are kept by area code alone, so they can be loaded before or after the
boundaries and join to any level whose codes they hold; loading them again updates them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from assetmap.store.visibility import RUNNING

if TYPE_CHECKING:
    import numpy as np
    import sqlite_utils


def replace_areas(
    db: sqlite_utils.Database, level: str, areas: Iterable[tuple[str, str, dict]], when: str
) -> tuple[int, int]:
    """Replace the areas of `level` with (code, name, geometry) rows; (before, after) counts.
    Call inside `transaction`."""
    before = db.conn.execute("SELECT count(*) FROM areas WHERE level = ?", [level]).fetchone()[0]
    db.conn.execute("DELETE FROM areas WHERE level = ?", [level])
    db.conn.executemany(
        "INSERT INTO areas (level, code, name, geometry, loaded_at) VALUES (?, ?, ?, ?, ?)",
        (
            (level, code, name, json.dumps(geometry, separators=(",", ":")), when)
            for code, name, geometry in areas
        ),
    )
    after = db.conn.execute("SELECT count(*) FROM areas WHERE level = ?", [level]).fetchone()[0]
    return before, after


def save_need(db: sqlite_utils.Database, values: dict[str, tuple]) -> tuple[int, int]:
    """Insert or update (rank, decile) by code; (new, changed) counts. Inside `transaction`."""
    return _upsert(
        db,
        "area_need",
        ("imd_rank", "imd_decile"),
        ((code, rank, decile) for code, (rank, decile) in values.items()),
    )


def save_population(db: sqlite_utils.Database, values: dict[str, tuple]) -> tuple[int, int]:
    """Insert or update persons by code; (new, changed) counts. Inside `transaction`."""
    return _upsert(
        db, "area_population", ("persons",), ((code, p) for code, (p,) in values.items())
    )


def _upsert(db, table: str, columns: tuple[str, ...], rows) -> tuple[int, int]:
    """Insert or update (code, *columns) rows (one per code); (new, changed) counts. The rows
    held are read in one statement and only new or changed ones are written, in one batch:
    a statement a row was thousands of round trips for a national file on PostgreSQL."""
    rows = list(rows)
    names = ", ".join(columns)
    held = {row[0]: tuple(row[1:]) for row in db.conn.execute(f"SELECT code, {names} FROM {table}")}
    new = [row for row in rows if row[0] not in held]
    changed = [row for row in rows if row[0] in held and tuple(row[1:]) != held[row[0]]]
    if new or changed:
        marks = ", ".join("?" for _ in columns)
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns)
        db.conn.executemany(
            f"INSERT INTO {table} (code, {names}) VALUES (?, {marks}) "
            f"ON CONFLICT (code) DO UPDATE SET {sets}",
            [*new, *changed],
        )
    return len(new), len(changed)


def levels(db: sqlite_utils.Database) -> dict[str, int]:
    """The levels loaded and how many areas each has."""
    return dict(db.conn.execute("SELECT level, count(*) FROM areas GROUP BY level ORDER BY level"))


def areas_with_figures(db: sqlite_utils.Database, level: str) -> list[dict]:
    """The areas of a level with their geometry (parsed), population and need (or None)."""
    rows = db.conn.execute(
        """SELECT a.code, a.name, a.geometry, p.persons, n.imd_rank, n.imd_decile
        FROM areas AS a
        LEFT JOIN area_population AS p ON p.code = a.code
        LEFT JOIN area_need AS n ON n.code = a.code
        WHERE a.level = ? ORDER BY a.code""",
        [level],
    )
    return [
        {
            "code": code,
            "name": name,
            "geometry": json.loads(geometry),
            "population": persons,
            "imd_rank": rank,
            "imd_decile": decile,
        }
        for code, name, geometry, persons, rank, decile in rows
    ]


def postcode_positions(db: sqlite_utils.Database) -> tuple[np.ndarray, np.ndarray]:
    """(lons, lats) of every postcode in the table."""
    import numpy as np

    rows = db.conn.execute("SELECT lon, lat FROM postcodes").fetchall()
    data = np.array(rows, dtype=float).reshape(-1, 2)
    return data[:, 0], data[:, 1]


def postcodes_with_positions(
    db: sqlite_utils.Database,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(postcodes, lons, lats) of every postcode in the table."""
    import numpy as np

    rows = db.conn.execute("SELECT postcode, lon, lat FROM postcodes").fetchall()
    return (
        [r[0] for r in rows],
        np.array([r[1] for r in rows], dtype=float),
        np.array([r[2] for r in rows], dtype=float),
    )


def running_asset_positions(
    db: sqlite_utils.Database, kinds: Iterable[str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(lons, lats, strands) of the running assets that have a position, of `kinds` if given."""
    import numpy as np

    sql = f"SELECT lon, lat, strand FROM assets WHERE {RUNNING} AND lat IS NOT NULL"
    params: list = []
    kinds = list(kinds or [])
    if kinds:
        sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params = kinds
    rows = db.conn.execute(sql, params).fetchall()
    lons = np.array([r[0] for r in rows], dtype=float)
    lats = np.array([r[1] for r in rows], dtype=float)
    return lons, lats, [r[2] for r in rows]


def coverage_version(db: sqlite_utils.Database) -> tuple:
    """What the coverage figures are computed from, in a few numbers: the newest change to an
    asset, the areas loaded, need, population and postcodes. Equal versions, equal figures."""
    return tuple(
        db.conn.execute(
            """SELECT (SELECT max(version_id) FROM asset_history),
            (SELECT count(*) || ' ' || coalesce(max(loaded_at), '') FROM areas),
            (SELECT count(*) || ' ' || coalesce(sum(imd_rank), 0) || ' '
                || coalesce(sum(imd_decile), 0) FROM area_need),
            (SELECT count(*) || ' ' || coalesce(sum(persons), 0) FROM area_population),
            (SELECT count(*) FROM postcodes)"""
        ).fetchone()
    )
