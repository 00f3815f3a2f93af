"""Loading asset files (GeoJSON, or CSV as `assetmap export csv` writes it) into the store.

Every record is validated first; the valid ones are written in one transaction and the
rejected ones are reported with their position and every reason, never dropped silently.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap.record import ids as asset_ids
from assetmap.record.formats import FormatError, from_csv_row, from_feature, read_geojson
from assetmap.record.validation import UK_BOUNDS, validate_asset
from assetmap.store import assets as store

if TYPE_CHECKING:
    import sqlite_utils


@dataclass
class Rejection:
    """A record that was not loaded: where it is in the file, what it is, and why."""

    where: str
    label: str
    reasons: list[str]

    def __str__(self) -> str:
        return f"{self.where} ({self.label}): " + "; ".join(self.reasons)


@dataclass
class LoadReport:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{len(self.rejected)} rejected"
        )


def _id_for(db: sqlite_utils.Database, record: dict) -> str:
    """The id of a record that has none (see asset_ids), so loading the same file twice
    matches up: the id an asset listed before accents were spelled out has, if that is it."""
    made = asset_ids.asset_id(record)
    for earlier in asset_ids.earlier_ids(made, record):
        if store.get_asset(db, made) is None and store.get_asset(db, earlier) is not None:
            return earlier
    return made


def read_records(path: Path) -> list[tuple[str, object]]:
    """The raw records of a file with where each one is, e.g. ("feature 3", {...})."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        with path.open(encoding="utf-8-sig") as f:
            return [(f"feature {n}", feat) for n, feat in enumerate(read_geojson(f), start=1)]
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "name" not in reader.fieldnames:
                raise FormatError("has no header row with a 'name' column")
            return [(f"row {n}", row) for n, row in enumerate(reader, start=2)]
    raise FormatError(f"has the extension {suffix or '(none)'!r}; use .geojson or .csv")


def load_file(
    db: sqlite_utils.Database,
    path: str | Path,
    *,
    who: str,
    bounds: tuple[float, float, float, float] | None = UK_BOUNDS,
    dry_run: bool = False,
) -> LoadReport:
    """Validate every record in the file and upsert the valid ones by id in one transaction."""
    path = Path(path)
    report = LoadReport()
    valid: list[dict] = []
    seen: dict[str, str] = {}
    for where, raw in read_records(path):
        try:
            data = from_csv_row(raw) if where.startswith("row") else from_feature(raw)
        except FormatError as e:
            report.rejected.append(Rejection(where, "unreadable", [f"it {e}"]))
            continue
        result = validate_asset(data, bounds=bounds)
        label = str(data.get("name") or data.get("id") or "no name")
        if not result.ok:
            report.rejected.append(Rejection(where, label, list(result.errors.values())))
            continue
        record = result.record
        record["id"] = record["id"] or _id_for(db, record)
        if record["id"] in seen:
            reason = f"id: {record['id']!r} is used again (first at {seen[record['id']]})"
            report.rejected.append(
                Rejection(where, label, [reason + "; give each asset its own id"])
            )
            continue
        seen[record["id"]] = where
        report.warnings.extend(f"{where} ({label}): {w}" for w in result.warnings.values())
        valid.append(record)
    outcomes = store.save_assets(
        db, valid, who=who, why=f"loaded from {path.name}", dry_run=dry_run
    )
    report.new = outcomes.count(store.NEW)
    report.changed = outcomes.count(store.CHANGED)
    report.unchanged = outcomes.count(store.UNCHANGED)
    return report
