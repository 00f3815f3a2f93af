"""Open Referral UK 3.0 files read as a table: each service one row, through the same preview,
mapping, problems and undo as a spreadsheet.

Two shapes arrive. JSON, as another directory's API answers (or as ours does at
/api/oruk/services): one service, an organization with its services, one service_at_location,
a list of any of them, or saved pages of them (the standard's envelope, with the records under
`contents`); assetmap.openreferral.responses says which and gives their services. And an HSDS
tabular
package: a .zip (or, from the command line, a folder) of the standard's CSVs, one a table,
joined back into services by assetmap.openreferral.tabular.

Each service becomes a record (assetmap.openreferral.reading) whose fields are the table's
columns, named as our fields are (lat and lon headed as WGS84, as the standard's are), so the
usual steps read them: a service without a place is
rejected with the row's other problems, a file with no kind or strand goes to the step where
the coordinator chooses them, and the service's id is the row's own id (`source_id`), so
importing the same services again updates the same assets. What a service holds that no field
keeps goes in one more column, kept with each row as extra information.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path

from assetmap.imports.limits import MAX_JSON_DEPTH, ImportLimits
from assetmap.imports.problems import ImportFileError
from assetmap.imports.tables import SourceRow, Table
from assetmap.openreferral import responses
from assetmap.openreferral.reading import record_from_service
from assetmap.record.fields import FIELD_NAMES

UNIT = "service"
NOT_KEPT = "Open Referral parts with no field here"
_PLACED_BY = ("lat", "lon", "postcode", "address")
# The standard's coordinates are WGS84 (so 100 is a latitude out of range, never an easting):
# the headings say so, and placing reads them so (placing._headed_wgs84).
_HEADINGS = {"lat": "lat (WGS84)", "lon": "lon (WGS84)"}


def is_services(document: object) -> bool:
    """Whether a parsed JSON file is the standard's (assetmap.openreferral.responses: services,
    organizations, service_at_locations, taxonomies, one or a list or saved pages), rather
    than some other list of records. Those that hold no services are refused when read."""
    return responses.is_paged(document) or responses.kind_of_document(document) is not None


def is_service(item: object) -> bool:
    return responses.kind_of(item) == responses.SERVICE


def services_table(
    document: object,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """The services of a parsed ORUK JSON document (see is_services) as a table, with which
    shape was read in its notes."""
    found = responses.read(document)
    return table_of(found.items, f"Open Referral UK services (JSON{found.shape})", limits,
                    found.notes)  # fmt: skip


def is_package(names: list[str]) -> bool:
    """Whether a zip's members are an HSDS package: a services table among CSVs, or the
    Frictionless descriptor that names its tables."""
    bases = {posixpath.basename(n).lower() for n in names if not n.startswith("__MACOSX")}
    return "services.csv" in bases or "datapackage.json" in bases


def package_table(
    path: Path,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """The services of an HSDS package (a .zip or folder of the standard's CSVs) as a table,
    with what became of every row of every table as the file's notes."""
    from assetmap.openreferral.tabular import read_package

    services, accounting = read_package(path, limits)
    return table_of(services, "HSDS package of Open Referral UK tables", limits,
                    accounting_notes(accounting))  # fmt: skip


# A table's rows not used are named one by one up to this many; the rest are counted.
NAMED_ROWS = 10


def accounting_notes(accounting) -> list[str]:
    """Every row of every table in words, table by table (tabular.Accounting): how many rows,
    how many a service used, and each one not used with why."""
    notes = [
        f"Every row of every table of the package is accounted for: {accounting.summary()}. "
        "Services are numbered in the order of the services table, from 1; what a used row "
        f"holds that no field keeps is kept with its service (“{NOT_KEPT}”)."
    ]
    for file in dict.fromkeys(r.file for r in accounting.rows):
        rows = accounting.in_file(file)
        used = sum(1 for r in rows if r.used)
        words = f"{file}: {_rows_count(len(rows))}, " + (
            "all used"
            if used == len(rows)
            else "not used"
            if not used
            else f"{used:,} used, {len(rows) - used:,} not used"
        )
        unused = [r for r in rows if not r.used]
        if unused:
            named = "; ".join(f"row {r.number} ({r.reason})" for r in unused[:NAMED_ROWS])
            more = len(unused) - NAMED_ROWS
            words += f": {named}" + (f"; and {more:,} more rows" if more > 0 else "")
        notes.append(words + ".")
    if accounting.files_not_read:
        notes.append(
            "Not read, as they are not tables: " + ", ".join(accounting.files_not_read) + "."
        )
    notes += [f"{problem}." for problem in accounting.problems]
    return notes


def folder_as_zip(folder: Path, into: Path) -> Path:
    """A folder of HSDS CSVs zipped (into the folder `into`), so that the one import pipeline,
    which keeps the file it imported, keeps the package as one file. Only the folder's own
    .csv files and datapackage.json are taken; ImportFileError when there are none."""
    chosen = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and (p.suffix.lower() == ".csv" or p.name == "datapackage.json")
    )
    if not chosen:
        raise ImportFileError(
            "is a folder without CSV files; give the folder that holds the package's tables "
            "(services.csv and the others), or a file to import"
        )
    target = into / f"{folder.name or 'package'}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in chosen:
            archive.write(path, path.name)
    return target


def table_of(
    items: list, description: str, limits: ImportLimits, notes: list[str] | None = None
) -> Table:
    """Services (parsed JSON objects) as a table of one row each, checked against the limits
    before the first is used; ImportFileError when none of them has a place."""
    if len(items) > limits.max_rows:
        raise limits.too_many_rows(UNIT, len(items))
    for number, item in enumerate(items, start=1):
        if _depth(item) > MAX_JSON_DEPTH:
            raise limits.nested_too_deep(number, UNIT)
    # A service read, or why the entry is not one (its row is rejected with that).
    read: list[tuple[dict, list[str]] | str] = [
        record_from_service(item) if _could_be_service(item)
        else item if isinstance(item, str) else responses.NOT_A_SERVICE
        for item in items
    ]  # fmt: skip
    services = [found for found in read if not isinstance(found, str)]
    if read and not services:
        raise ImportFileError(f"has no services in it: its first entry {read[0]}")
    present = {name for found in services for name in found[0]}
    names = [name for name in dict.fromkeys(("source_id", *FIELD_NAMES)) if name in present]
    if any(found[1] for found in services):
        names.append(NOT_KEPT)
    headers = [_HEADINGS.get(name, name) for name in names]
    if services and not present & set(_PLACED_BY):
        raise ImportFileError(
            f"holds {_count(len(items))} and none has a place: an asset on the map needs a "
            "service_at_locations entry whose location has a latitude and longitude, or an "
            "address with a postcode. A /services list often leaves places out; save each "
            "service in full (/services/ and its id), or the publisher's HSDS package, and "
            "import that"
        )
    for number, found in enumerate(read, start=1):
        if not isinstance(found, str):
            limits.check_row(number, _cells(found, names), UNIT, headers)
    notes = list(notes or [])
    if missing := [name for name in ("kind", "strand") if name not in names]:
        which = " and ".join(missing)
        plurals = " or ".join(f"{name}s" for name in missing)
        flags = " ".join(f"--default {name}=..." for name in missing)
        notes.append(
            f"No service names one of our {plurals} among its taxonomy terms (another "
            f"directory's services seldom do), so each asset takes the {which} chosen for the "
            "import: on the import page, in the step that chooses what the columns hold, or "
            f"with {flags} on the command line."
        )
    plural = "service" if len(items) == 1 else "services"
    return Table(
        f"{description}, {len(items):,} {plural}",
        headers,
        _rows(read, names),
        unit=UNIT,
        notes=notes,
    )


def _could_be_service(item: object) -> bool:
    """A service, or at least an object with a name where services are listed."""
    return isinstance(item, dict) and "name" in item


def _cells(found: tuple[dict, list[str]], names: list[str]) -> list:
    record, not_kept = found
    return ["\n".join(not_kept) or None if name == NOT_KEPT else record.get(name) for name in names]


def _rows(read: list, names: list[str]) -> Iterator[SourceRow]:
    for number, found in enumerate(read, start=1):
        if isinstance(found, str):
            yield SourceRow(number, [], problem=found)
            continue
        yield SourceRow(number, _cells(found, names))


def _depth(value: object) -> int:
    """How deep objects and lists nest in a value (a service nests five or six levels), found
    without recursion, so that no nesting is too deep to measure."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_JSON_DEPTH:
                break
            stack.extend(
                (v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def _rows_count(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _count(n: int) -> str:
    return f"{n:,} Open Referral service" + ("" if n == 1 else "s")
