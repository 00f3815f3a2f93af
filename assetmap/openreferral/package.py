"""HSDS tabular packages on disk: one CSV per table and a datapackage.json, in a folder or a zip.

Writing: the tables of assetmap.openreferral.tabular, each CSV with the standard's columns
(every table of the UK profile, empty ones as a heading row, so a reader sees the whole shape)
and a Frictionless Data Package descriptor giving each column's type, each table's primary key
and the foreign keys that hold in the package. Cells are written as they are: this is a file
for other directories' software, so a text starting with "=" or a phone number starting with
"+" is not given the apostrophe a spreadsheet export would (assetmap.record.formats).

Reading: a folder or a zip of the standard's CSVs, with or without datapackage.json (whose
column types are used when it has them), goes through the import limits
(assetmap.imports.limits) before anything is parsed: the zip's directory (size, unpacked
size, ratio, count), each file's size, every row and cell as it is read. Whatever is wrong with
the package as a whole (no services table, a file not UTF-8, a damaged zip, two columns with
one heading) is an ImportFileError whose message follows the package's name.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import posixpath
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap.imports.limits import DAMAGED_ZIP, ZIP_READ_ERRORS, ImportLimits
from assetmap.imports.problems import ImportFileError, shown_value
from assetmap.openreferral import hsds_tables as hsds
from assetmap.openreferral import mapping, publish
from assetmap.openreferral.tabular import Accounting, Row, services_to_tables, tables_to_services
from assetmap.store import assets as store
from assetmap.store import published

if TYPE_CHECKING:
    import sqlite_utils

DESCRIPTOR = "datapackage.json"
PACKAGE_NAME = "assetmap-open-referral-uk"
PROFILE = "https://github.com/OpenReferralUK/uk-profile"
_INTEGER = re.compile(r"[+-]?\d+")
_TRUE, _FALSE = ("true", "True", "TRUE", "1"), ("false", "False", "FALSE", "0")


# ---- writing -------------------------------------------------------------------------------


def published_services(
    db: sqlite_utils.Database, page: int = 500, base_url: str | None = None
) -> Iterator[dict]:
    """Every asset the ORUK API publishes, as a service (public fields only, with when it
    last changed and its taxonomy terms' URIs under `base_url`), in the API's order (by
    name, then id)."""
    offset = 0
    while True:
        records, _ = store.list_assets(db, publish.PUBLISHED, limit=page, offset=offset)
        modified = published.modified_times(db, [r["id"] for r in records])
        yield from (
            mapping.to_service(r, base_url=base_url, modified=modified.get(r["id"]))
            for r in records
        )
        if len(records) < page:
            return
        offset += page


def write_package(
    services: list[dict], out: str | Path, taxonomies: list[dict] = ()
) -> dict[str, int]:
    """Write the services as an HSDS tabular package to `out`: a .zip, or else a folder (new,
    or empty), with `taxonomies` as well (see tabular.services_to_tables). Returns each CSV's
    number of rows.

    Everything is written beside the target first and then renamed, so a failed export leaves
    no half package; an existing folder with files in it is never written into.
    """
    target = Path(out)
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "there is no such folder", str(target.parent))
    files, rows = _package(services, taxonomies)
    partial = target.with_name(target.name + ".partial")
    _remove(partial)
    try:
        if target.suffix.lower() == ".zip":
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, text in files.items():
                    archive.writestr(name, text)
            partial.replace(target)
        else:
            if target.exists() and (not target.is_dir() or any(target.iterdir())):
                raise FileExistsError(
                    f"{target} already exists and is not an empty folder; name a new folder "
                    "or a .zip file"
                )
            partial.mkdir(parents=True)
            for name, text in files.items():
                (partial / name).write_text(text, encoding="utf-8", newline="")
            if target.exists():
                target.rmdir()
            partial.rename(target)
    except BaseException:
        _remove(partial)
        raise
    return rows


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def package_files(services: list[dict], taxonomies: list[dict] = ()) -> dict[str, str]:
    """The package's files, name -> text: a CSV per table and datapackage.json."""
    return _package(services, taxonomies)[0]


def _package(services: list[dict], taxonomies: list[dict]) -> tuple[dict, dict[str, int]]:
    """The package's files, and each CSV's number of rows."""
    tables = services_to_tables(services, taxonomies)
    names = [t.name for t in hsds.TABLES] + sorted(set(tables) - set(hsds.TABLES_BY_NAME))
    files, resources = {}, []
    ids = {name: {str(r["id"]) for r in tables.get(name, [])} for name in names}
    for name in names:
        rows = tables.get(name, [])
        columns = _columns(name, rows)
        files[f"{name}.csv"] = _csv(columns, rows)
        resources.append(_resource(name, columns, rows, ids))
    descriptor = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "Open Referral UK 3.0 services, as HSDS tables",
        "homepage": PROFILE,
        "resources": resources,
    }
    files[DESCRIPTOR] = json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
    return files, {f"{name}.csv": len(tables.get(name, [])) for name in names}


def _columns(table: str, rows: list[dict]) -> list[hsds.Column]:
    """The standard's columns, then any others the rows have, each with its type."""
    known = hsds.TABLES_BY_NAME.get(table)
    columns = list(known.columns) if known else []
    have = {c.name for c in columns}
    for row in rows:
        for key in row:
            if key not in have:
                have.add(key)
                columns.append(hsds.Column(key, _type_of(key, rows)))
    return columns


def _type_of(key: str, rows: list[dict]) -> str:
    """A column's Table Schema type from its values (one that is not a standard column)."""
    values = [r[key] for r in rows if r.get(key) is not None]
    kinds = {
        "boolean"
        if isinstance(v, bool)
        else "number"
        if isinstance(v, (int, float))
        else "object"
        if isinstance(v, dict)
        else "array"
        if isinstance(v, list)
        else "string"
        for v in values
    }
    return kinds.pop() if len(kinds) == 1 else "string"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _csv(columns: list[hsds.Column], rows: list[dict]) -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c.name)) for c in columns])
    return stream.getvalue()


def _resource(table: str, columns: list[hsds.Column], rows: list[dict], ids: dict) -> dict:
    fields = []
    for column in columns:
        spec = {"name": column.name, "type": column.type}
        if column.format:
            spec["format"] = column.format
        if column.name == "id":
            spec["constraints"] = {"required": True, "unique": True}
        fields.append(spec)
    schema: dict = {"fields": fields, "primaryKey": ["id"]}
    foreign = []
    for column in columns:
        target = _target(column.name)
        if target is None or target not in ids:
            continue
        values = {str(r[column.name]) for r in rows if r.get(column.name) not in (None, "")}
        # Declared only where it holds: a reference to something outside the package (a
        # parent organization, a taxonomy term published elsewhere) is kept but not declared.
        if values and values <= ids[target]:
            foreign.append(
                {"fields": [column.name], "reference": {"resource": target, "fields": ["id"]}}
            )
    if foreign:
        schema["foreignKeys"] = foreign
    return {
        "name": table,
        "path": f"{table}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    }


def _target(column: str) -> str | None:
    """The table a `<entity>_id` column points into (service_id -> services)."""
    if not column.endswith("_id"):
        return None
    return hsds.TABLE_OF_ENTITY.get(column[: -len("_id")])


# ---- reading -------------------------------------------------------------------------------


def read_package(
    path: str | Path, limits: ImportLimits | None = None
) -> tuple[list[dict], Accounting]:
    """The services of an HSDS package (a folder or .zip of the standard's CSVs, with or
    without datapackage.json), joined back into nested ORUK services, and what became of
    every row of every table (tabular.Accounting).

    ImportFileError (its message follows the package's name) for a package that cannot be
    read as a whole: over the import limits, not a folder or zip, a damaged zip, a table not
    in UTF-8, two columns with one heading, no services table.
    """
    path = Path(path)
    limits = limits or ImportLimits()
    found, not_read = _package_files(path, limits)
    types = _descriptor_types(found.pop(DESCRIPTOR, None))
    tables = {
        name: hsds.table_for_file(types.get(name, ("", {}))[0] or posixpath.splitext(name)[0])
        for name in found
    }
    if "services" not in tables.values():
        held = ", ".join(sorted(found)) or "no CSV files"
        raise ImportFileError(
            "has no services table: an HSDS package needs services.csv, with a row for each "
            f"service (it holds {held}). Add services.csv, or import the file as a table"
        )
    files, dropped = [], []
    for name, data in found.items():
        files.append(_rows(name, tables[name], data, types.get(name, ("", {}))[1], limits, dropped))
    services, accounting = tables_to_services(files)
    accounting.files_not_read = not_read
    accounting.problems[:0] = dropped
    return services, accounting


def _package_files(path: Path, limits: ImportLimits) -> tuple[dict[str, bytes], list[str]]:
    """The package's CSVs and descriptor, name -> bytes, and the names of its other files;
    every size checked before a byte is parsed."""
    wanted: dict[str, bytes] = {}
    not_read: list[str] = []
    if path.is_dir():
        entries = sorted(p for p in path.iterdir() if p.is_file())
        chosen = [p for p in entries if _is_table_or_descriptor(p.name)]
        not_read = [p.name for p in entries if p not in chosen and not p.name.startswith(".")]
        total = sum(p.stat().st_size for p in chosen)
        if total > limits.uncompressed_bytes:
            raise limits.too_big(total, "its CSV files together")
        for p in chosen:
            wanted[p.name] = p.read_bytes()
        return wanted, not_read
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ImportFileError(
            "is not a folder or a .zip of HSDS tables; give the folder that holds services.csv "
            "(and the other tables), or a .zip of it"
        )
    infos = limits.check_archive(path)  # the zip's directory, before any member is read
    members = []
    for info in infos:
        name = info.filename
        base = posixpath.basename(name)
        if info.is_dir() or name.startswith("__MACOSX/") or base.startswith("."):
            continue
        if _is_table_or_descriptor(base):
            members.append(info)
        else:
            not_read.append(name)
    seen: dict[str, str] = {}
    for info in members:
        base = posixpath.basename(info.filename)
        if base.lower() in seen:
            raise ImportFileError(
                f"holds two files called {base} ({seen[base.lower()]} and {info.filename}); "
                "zip one package at a time"
            )
        seen[base.lower()] = info.filename
    try:
        with zipfile.ZipFile(path) as archive:
            for info in members:
                wanted[posixpath.basename(info.filename)] = archive.read(info)
    except ZIP_READ_ERRORS:
        raise ImportFileError(DAMAGED_ZIP) from None
    return wanted, not_read


def _is_table_or_descriptor(name: str) -> bool:
    return name.lower().endswith(".csv") or name == DESCRIPTOR


def _descriptor_types(data: bytes | None) -> dict[str, tuple[str, dict[str, str]]]:
    """From datapackage.json: file name -> (its resource's name, column -> type)."""
    if data is None:
        return {}
    try:
        descriptor = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFileError(
            f"has a {DESCRIPTOR} that is not UTF-8 text; save it as UTF-8, or leave it out "
            "(the tables are read without it)"
        ) from None
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"has a {DESCRIPTOR} that is not JSON ({error.msg}, line {error.lineno}); correct "
            "it, or leave it out (the tables are read without it)"
        ) from None
    found = {}
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    for resource in resources if isinstance(resources, list) else []:
        if not isinstance(resource, dict) or not isinstance(resource.get("path"), str):
            continue
        schema = resource.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        types = {
            str(f["name"]): str(f.get("type") or "string")
            for f in (fields if isinstance(fields, list) else [])
            if isinstance(f, dict) and isinstance(f.get("name"), str)
        }
        name = resource.get("name") if isinstance(resource.get("name"), str) else ""
        found[posixpath.basename(resource["path"])] = (name, types)
    return found


def _rows(
    name: str,
    table: str,
    data: bytes,
    types: dict[str, str],
    limits: ImportLimits,
    dropped: list[str],
) -> list[Row]:
    """One table's rows, checked against the limits as they are read; a row's cells with no
    heading are not read, and said so in `dropped`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"has {name}, which is not UTF-8 text (byte {error.start + 1:,} cannot be read); "
            "save each table as CSV UTF-8 and package them again"
        ) from None
    known = hsds.TABLES_BY_NAME.get(table)
    declared = {c.name: c.type for c in known.columns} if known else {}
    required = set(known.required) if known else set()
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    headers: list[str] | None = None
    unit = f"{name} row"
    try:
        for number, cells in enumerate(reader, start=1):
            limits.check_row(number, cells, unit=unit, headers=headers)
            if headers is None:
                headers = [h.strip() for h in cells]
                _check_headers(name, headers)
                continue
            if not any(c.strip() for c in cells):
                continue  # a blank line is not a row
            values = {}
            unheaded = sum(
                1
                for n, c in enumerate(cells)
                if c.strip() and (n >= len(headers) or not headers[n])
            )
            if unheaded:
                dropped.append(
                    f"{name} row {number}: {unheaded} cells under no heading were not read; "
                    "give their column a heading, or delete them"
                )
            for heading, cell in zip(headers, cells, strict=False):
                if not heading:
                    continue
                if cell == "":
                    if heading in required:
                        values[heading] = ""
                    continue
                values[heading] = _typed(cell, types.get(heading) or declared.get(heading))
            rows.append(Row(name, number, table, values))
    except csv.Error as error:
        raise ImportFileError(
            f"has {name}, which is not readable CSV (line {reader.line_num}: {error}); save "
            "it again as CSV UTF-8"
        ) from None
    return rows


def _check_headers(name: str, headers: list[str]) -> None:
    seen = set()
    for heading in headers:
        if heading and heading in seen:
            raise ImportFileError(
                f"has {name} with two columns headed {shown_value(heading)}; rename or delete "
                "one of them"
            )
        seen.add(heading)


def _typed(cell: str, kind: str | None):
    """A cell as its column's type says; kept as text when it is not one (nothing is lost:
    the import's checks then say what is wrong with it)."""
    if kind in ("number", "integer"):
        try:
            number = int(cell) if _INTEGER.fullmatch(cell.strip()) else float(cell)
        except ValueError:
            return cell
        return number if math.isfinite(number) else cell
    if kind == "boolean":
        return True if cell in _TRUE else False if cell in _FALSE else cell
    if kind in ("object", "array"):
        try:
            value = json.loads(cell)
        except ValueError:
            return cell
        return value if isinstance(value, dict if kind == "object" else list) else cell
    return cell
