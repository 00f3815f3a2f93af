"""Which electoral ward each postcode is in: from the ward boundaries when they are loaded,
else from the ONS Postcode Directory.

The review queue and the freshness figures are read by ward, the unit councillors and
commissioners plan by, and so is coverage; all of them must mean the same wards. When ward
boundaries are loaded (`assetmap areas load FILE --level ward`, which `make run` does with
Trafford's 2023 wards), each postcode's ward is the boundary it lies in, as coverage places
postcodes: the current wards, whatever year the postcode file's ward columns are from. Until
then, the ONS Postcode Directory's own columns give it: its Trafford extract (data/postcodes/)
has ward_code and ward_name (2022 wards), the national file osward (a code only, which then
stands for the name). An asset whose postcode has no ward is in "ward unknown".
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap.search.postcodes import normalise_postcode
from assetmap.store import checks as store_checks

if TYPE_CHECKING:
    import sqlite_utils

UNKNOWN = "unknown"  # the queue's filter value for assets with no ward known
UNKNOWN_LABEL = "ward unknown"

_POSTCODE = ("pcds", "postcode", "pcd", "pcd2")
_CODE = ("ward_code", "osward", "wd_code")
_NAME = ("ward_name", "osward_name", "wd_name")
BATCH = 50_000


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(name) for name in names if name in header), None)


def read_wards(path: str | Path) -> Iterator[list[tuple[str, str, str]]]:
    """(postcode, ward code, ward name) in batches; nothing when the file has no ward column
    (Code-Point Open, a plain postcode CSV). Rows without a ward or a valid postcode are
    passed over: the postcode table's own load counts its skipped rows."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f)
        header = [h.strip().lower() for h in next(rows, [])]
        postcode_at, code_at = _find(header, _POSTCODE), _find(header, _CODE)
        if postcode_at is None or code_at is None:
            return
        name_at = _find(header, _NAME)
        batch: list[tuple[str, str, str]] = []
        for row in rows:
            if len(row) <= max(postcode_at, code_at, name_at or 0):
                continue
            code = row[code_at].strip()
            postcode = normalise_postcode(row[postcode_at])
            if not code or postcode is None:
                continue
            name = row[name_at].strip() if name_at is not None else ""
            batch.append((postcode, code, name or code))
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def load_wards(db: sqlite_utils.Database, path: str | Path) -> int:
    """Keep the wards of a postcode file's postcodes; how many. Call inside the transaction
    that loads the file's postcodes, so the two agree."""
    count = 0
    for batch in read_wards(path):
        store_checks.save_wards(db, batch)
        count += len(batch)
    return count


def wards_from_boundaries(db: sqlite_utils.Database) -> int | None:
    """Give every postcode the ward whose boundary it lies in, when ward boundaries are
    loaded; how many postcodes have one (None: no ward boundaries, nothing changed). Call
    inside a transaction."""
    from assetmap.coverage.reach import area_of_each
    from assetmap.store import areas as store_areas

    wards = store_areas.areas_with_figures(db, "ward")
    if not wards:
        return None
    postcodes, lons, lats = store_areas.postcodes_with_positions(db)
    owner = area_of_each([w["geometry"] for w in wards], lons, lats)
    rows = [
        (postcode, wards[i]["code"], wards[i]["name"])
        for postcode, i in zip(postcodes, owner.tolist(), strict=True)
        if i >= 0
    ]
    store_checks.replace_wards(db, rows)
    return len(rows)
