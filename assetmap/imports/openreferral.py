"""Open Referral UK 3.0 files read as a table: each service one row, through the same preview,
mapping, problems and undo as a spreadsheet.

Two shapes arrive. JSON, as another directory's API answers (or as ours does at
/api/oruk/services): one service, a list of services, a saved /services page (the standard's
envelope, with the services under `contents`), or a list of such pages. And an HSDS tabular
package: a .zip (or, from the command line, a folder) of the standard's CSVs, one a table,
joined back into services by assetmap.openreferral.tabular.

Each service becomes a record (assetmap.openreferral.reading) whose fields are the table's
columns, named as our fields are, so the usual steps read them: a service without a place is
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
from assetmap.openreferral.reading import record_from_service
from assetmap.record.fields import FIELD_NAMES

UNIT = "service"
NOT_KEPT = "Open Referral parts with no field here"
# Parts only a service has (a plain list of records may well have an id, a name and a status).
_SERVICE_KEYS = frozenset(
    {
        "service_at_locations",
        "organization",
        "organization_id",
        "cost_options",
        "assured_date",
        "assurer_email",
        "schedules",
        "attributes",
        "service_areas",
        "program_id",
    }
)
_PAGE_KEYS = frozenset({"total_items", "total_pages", "page_number"})
_PLACED_BY = ("lat", "lon", "postcode", "address")


def is_service(item: object) -> bool:
    return isinstance(item, dict) and "name" in item and bool(_SERVICE_KEYS & item.keys())


def is_page(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("contents"), list)
        and bool(_PAGE_KEYS & item.keys())
    )


def is_services(document: object) -> bool:
    """Whether a parsed JSON file is Open Referral services (a service, a list of them, a saved
    /services page, or a list of pages), rather than some other list of records."""
    if is_page(document) or is_service(document):
        return True
    if not isinstance(document, list) or not document:
        return False
    if all(is_page(item) for item in document):
        return True
    return sum(is_service(item) for item in document) * 2 >= len(document)


def services_table(
    document: object,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """The services of a parsed ORUK JSON document (see is_services) as a table."""
    items, shape, notes = _services(document)
    return table_of(items, f"Open Referral UK services (JSON{shape})", limits, notes)


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
    read: list[tuple[dict, list[str]] | None] = [
        record_from_service(item) if _could_be_service(item) else None for item in items
    ]
    present = {name for found in read if found for name in found[0]}
    headers = [name for name in dict.fromkeys(("source_id", *FIELD_NAMES)) if name in present]
    if any(found and found[1] for found in read):
        headers.append(NOT_KEPT)
    if read and not present & set(_PLACED_BY):
        raise ImportFileError(
            f"holds {_count(len(items))} and none has a place: an asset on the map needs a "
            "service_at_locations entry whose location has a latitude and longitude, or an "
            "address with a postcode. A /services list often leaves places out; save each "
            "service in full (/services/ and its id), or the publisher's HSDS package, and "
            "import that"
        )
    for number, found in enumerate(read, start=1):
        if found:
            limits.check_row(number, _cells(found, headers), UNIT, headers)
    plural = "service" if len(items) == 1 else "services"
    return Table(
        f"{description}, {len(items):,} {plural}",
        headers,
        _rows(read, headers),
        unit=UNIT,
        notes=list(notes or []),
    )


def _services(document: object) -> tuple[list, str, list[str]]:
    """The service objects of a document, words for its shape, and notes."""
    if is_service(document):
        return [document], "", []
    pages = [document] if isinstance(document, dict) else document
    if not all(is_page(page) for page in pages):
        return list(document), "", []
    items = [item for page in pages for item in page["contents"]]
    if not items:
        raise ImportFileError(
            "is a saved page of Open Referral services with no services in it (its contents "
            "are empty); save a page that lists services, such as /services?page=1"
        )
    if not any(_could_be_service(item) for item in items):
        raise ImportFileError(
            "is a saved page of Open Referral records that are not services (none has a name), "
            "such as a /service_at_locations or /taxonomies page; save the /services pages, "
            "or each service in full, and import those"
        )
    notes = []
    numbers = sorted({p.get("page_number") for p in pages if isinstance(p.get("page_number"), int)})
    totals = {p.get("total_pages") for p in pages if isinstance(p.get("total_pages"), int)}
    if numbers and len(totals) == 1 and (total := totals.pop()) > len(numbers):
        missing = sorted(set(range(1, total + 1)) - set(numbers))
        shown = ", ".join(map(str, missing[:10])) + (" and more" if len(missing) > 10 else "")
        notes.append(
            f"The file holds {len(numbers)} of the {total} pages of services the publisher "
            f"listed; pages {shown} were not in it, so their services were not imported. Save "
            "every page (or ask with a larger per_page) to import them all."
        )
    saved = "1 saved /services page" if len(pages) == 1 else f"{len(pages)} saved /services pages"
    return items, f", {saved}", notes


def _could_be_service(item: object) -> bool:
    """A service, or at least an object with a name where services are listed."""
    return isinstance(item, dict) and ("name" in item or is_service(item))


def _cells(found: tuple[dict, list[str]], headers: list[str]) -> list:
    record, not_kept = found
    return [
        "\n".join(not_kept) or None if name == NOT_KEPT else record.get(name) for name in headers
    ]


def _rows(read: list, headers: list[str]) -> Iterator[SourceRow]:
    for number, found in enumerate(read, start=1):
        if found is None:
            yield SourceRow(
                number,
                [],
                problem="is not a service (an object with a name and the parts of a service); "
                "export the services again",
            )
            continue
        yield SourceRow(number, _cells(found, headers))


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
