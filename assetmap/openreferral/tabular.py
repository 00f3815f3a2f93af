"""HSDS tabular form, both ways: nested ORUK services to one table per object, and back.

Flattening is generic: every list of objects in a service becomes rows of its table (the key
names the table, assetmap.openreferral.hsds_tables), each row given the id of the object it
sits in (`service_id`, `location_id` ..., or `link_id` and `link_entity` for attributes); every
object held once and pointed at (an organization, a location, a taxonomy term) becomes one row,
however many services share it, and the pointing column (`organization_id` ...) is filled. So
parts a newer mapping adds (attributes, say) need no change here.

Joining is the reverse, and accounts for every row of every table: which services used it, or
why none did (an orphan location, a schedule whose service is missing, an unknown table).

The files themselves (CSV, datapackage.json, folders and zips) are assetmap.openreferral.package;
`write_package` and `read_package` are re-exported here.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from assetmap.imports.problems import shown_value
from assetmap.openreferral import hsds_tables as hsds
from assetmap.openreferral.mapping import stable_id

# Deeper than any service the standard describes (service > service_at_location > location >
# accessibility > attribute > taxonomy_term > taxonomy), far short of a hostile chain's depth.
MAX_DEPTH = 12


def read_package(path, limits=None):
    """A folder or .zip of HSDS CSVs as (services, accounting): see
    assetmap.openreferral.package.read_package (the files' side lives there)."""
    from assetmap.openreferral import package

    return package.read_package(path, limits)


def write_package(services: list[dict], out) -> dict[str, int]:
    """Services as an HSDS package (a folder or .zip): see assetmap.openreferral.package."""
    from assetmap.openreferral import package

    return package.write_package(services, out)


# ---- nested to tables ------------------------------------------------------------------------


def linked(service: dict) -> dict:
    """A copy of the service as its tables carry it, which is what reading them back gives:
    every link filled in (each nested object's id of what it sits in, each pointed-at
    object's id on what points to it, an id on every object), and what a CSV cell cannot tell
    apart from nothing left out (None, an empty list, "" except in a column the standard
    requires)."""
    service = copy.deepcopy(service)
    # Ids made for objects without one are the same each time for the same service.
    root = str(service.get("id") or json.dumps(service, sort_keys=True, default=str))
    _link(service, "services", None, (root,), 0)
    return service


def _link(obj: dict, table: str, parent: tuple[str, str] | None, path: tuple, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"a service nested more than {MAX_DEPTH} levels deep")
    required = hsds.TABLES_BY_NAME[table].required if table in hsds.TABLES_BY_NAME else ()
    for key in [k for k, v in obj.items() if _empty(v) and not (v == "" and k in required)]:
        del obj[key]
    if not obj.get("id"):
        obj["id"] = stable_id("hsds", table, *path)
    if parent is not None:
        parent_table, parent_id = parent
        if table in hsds.LINKED_ANYWHERE:
            obj.setdefault("link_id", parent_id)
            obj.setdefault("link_entity", hsds.entity_of(parent_table))
        else:
            obj.setdefault(f"{hsds.entity_of(parent_table)}_id", parent_id)
    here = (table, obj["id"])
    for key, value in list(obj.items()):
        if isinstance(value, dict) and key in hsds.ONE_IN.get(table, ()):
            child_table, column = hsds.ONE[key]
            _link(value, child_table, None, (*path, key), depth + 1)
            obj.setdefault(column, value["id"])
        elif _is_rows(value):
            child_table = hsds.table_of_list_key(key)
            for n, item in enumerate(value):
                _link(item, child_table, here, (*path, key, str(n)), depth + 1)


def _empty(value) -> bool:
    return value is None or value == "" or (isinstance(value, list) and not value)


def _is_rows(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def services_to_tables(services: list[dict]) -> dict[str, list[dict]]:
    """The HSDS tables of these services: table name -> rows (flat dicts, the standard's
    column names), each shared object (one organization used by many services) once, the
    first time it is met."""
    tables: dict[str, list[dict]] = {}
    seen: set[tuple[str, str]] = set()
    for service in services:
        _flatten(linked(service), "services", tables, seen)
    return tables


def _flatten(obj: dict, table: str, tables: dict, seen: set) -> None:
    if (table, obj["id"]) in seen:
        return
    seen.add((table, obj["id"]))
    row = {}
    children = []
    for key, value in obj.items():
        if isinstance(value, dict) and key in hsds.ONE_IN.get(table, ()):
            children.append((value, hsds.ONE[key][0]))
        elif _is_rows(value):
            children.extend((item, hsds.table_of_list_key(key)) for item in value)
        else:
            row[key] = value
    tables.setdefault(table, []).append(row)
    for child, child_table in children:
        _flatten(child, child_table, tables, seen)


# ---- tables to nested ------------------------------------------------------------------------


@dataclass(eq=False)
class Row:
    """One row of one file of a package, as read (values typed, empty cells left out)."""

    file: str  # the file's name in the package, as given ("addresses.csv")
    number: int  # as a spreadsheet shows it: the heading is row 1
    table: str  # the table it holds (hsds_tables.table_for_file)
    values: dict
    services: set[str] = field(default_factory=set)  # ids of the services that used it
    reason: str = ""  # why no service used it
    parent: Row | None = None
    copy_of: Row | None = None  # the first row of its table and id, which this one repeats

    @property
    def id(self) -> str:
        value = self.values.get("id")
        return "" if value is None else str(value)

    @property
    def where(self) -> str:
        return f"{self.file} row {self.number}"

    @property
    def entity(self) -> str:
        return hsds.entity_of(self.table).replace("_", " ")


@dataclass(frozen=True)
class RowUse:
    """What became of one row: used by these services, or not used, and why."""

    file: str
    number: int
    table: str
    id: str
    services: tuple[str, ...]
    reason: str

    @property
    def used(self) -> bool:
        return bool(self.services)


@dataclass
class Accounting:
    """Every row of every table of a package, used or not (and why); the package's files that
    are not tables; references in used rows that point at nothing."""

    rows: list[RowUse]
    files_not_read: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def unused(self) -> list[RowUse]:
        return [r for r in self.rows if not r.used]

    def in_file(self, file: str) -> list[RowUse]:
        return [r for r in self.rows if r.file == file]

    def summary(self) -> str:
        used = sum(1 for r in self.rows if r.used)
        files = len({r.file for r in self.rows})
        return (
            f"{len(self.rows)} rows in {files} tables: {used} used by a service, "
            f"{len(self.rows) - used} not used"
        )


def tables_to_services(files: list[list[Row]]) -> tuple[list[dict], Accounting]:
    """Join the rows of a package (a list of files' rows) back into nested services (in
    their file's order, each part in its file's order), and say what became of every row.

    Rows of one table with one id (address.csv and addresses.csv in one package) are one
    object: the first file's values (the UK profile's own file name first), with the columns
    only a later copy has added."""
    index: dict[tuple[str, str], Row] = {}
    by_id: dict[str, list[Row]] = {}
    for file_rows in sorted(files, key=_file_order):
        for row in file_rows:
            _index(row, index, by_id)
    firsts = [r for file_rows in files for r in file_rows if r.id and not r.reason]
    children: dict[int, list[Row]] = {}
    for row in firsts:
        row.parent = _parent(row, index, by_id)
        if row.parent is not None:
            children.setdefault(id(row.parent), []).append(row)
    problems: dict[str, None] = {}  # in the order found, each once
    services = [
        _build(row, index, children, row.id, frozenset(), problems)
        for row in firsts
        if row.table == "services"
    ]
    for row in firsts:
        _why_unused(row)
    for file_rows in files:
        for row in file_rows:
            if row.copy_of is not None:
                row.services = set(row.copy_of.services)
                if not row.services:
                    row.reason += f"; that row is not used: {row.copy_of.reason}"
    uses = [
        RowUse(r.file, r.number, r.table, r.id, tuple(sorted(r.services)), r.reason)
        for file_rows in files
        for r in file_rows
    ]
    return services, Accounting(uses, problems=list(problems))


def _file_order(file_rows: list[Row]) -> tuple:
    """The UK profile's own file name before an alias (address.csv before addresses.csv)."""
    if not file_rows:
        return (2, "")
    first = file_rows[0]
    return (0 if first.file.lower() == f"{first.table}.csv" else 1, first.file)


def _index(row: Row, index: dict, by_id: dict) -> None:
    if not row.id:
        row.reason = "has no id, so nothing can point to it"
        return
    key = (row.table, row.id)
    first = index.get(key)
    if first is None:
        index[key] = row
        by_id.setdefault(row.id, []).append(row)
        return
    if _merge(first, row):
        row.copy_of = first  # used wherever the first is
        row.reason = f"the same {row.entity} as {first.where}"
    else:
        row.reason = (
            f"has the id of {first.where}, a different {row.entity}; ids must be unique, "
            "so only the first was read"
        )


def _merge(first: Row, later: Row) -> bool:
    """Add a later copy's extra columns to the first; False if the two disagree on a value."""
    if any(k in first.values and first.values[k] != v for k, v in later.values.items()):
        return False
    for key, value in later.values.items():
        first.values.setdefault(key, value)
    return True


def _parent(row: Row, index: dict, by_id: dict) -> Row | None:
    """The row this one belongs to (services and objects held once belong to none). When
    there is none, row.reason says why."""
    if row.table == "services" or row.table in hsds.ONE_TARGETS:
        return None
    values = row.values
    if row.table in hsds.LINKED_ANYWHERE:
        link, entity = values.get("link_id"), values.get("link_entity")
        if not link:
            row.reason = "has no link_id naming what it describes"
            return None
        candidates = [
            r
            for r in by_id.get(str(link), [])
            if not entity or r.table == hsds.TABLE_OF_ENTITY.get(str(entity), str(entity))
        ]
        if candidates:
            return candidates[0]
        row.reason = f"its link_id {shown_value(link)} names no row of the package"
        return None
    named = []
    for column, table in hsds.parent_columns(row.table):
        value = values.get(column)
        if value is None or value == "":
            continue
        parent = index.get((table, str(value)))
        if parent is not None:
            return parent
        named.append(f"its {column} {shown_value(value)} names no row of {table}.csv")
    if named:
        row.reason = "; ".join(named)
    elif row.table not in hsds.TABLES_BY_NAME:
        row.reason = (
            f"{row.file} is not a table of HSDS 3.0 or the UK profile, and its rows name "
            "no service, location, organization or contact"
        )
    else:
        columns = " or ".join(c for c, _ in hsds.parent_columns(row.table))
        row.reason = f"names nothing it belongs to (no {columns})"
    return None


def _build(
    row: Row, index: dict, children: dict, service: str, path: frozenset, problems: dict
) -> dict:
    """The nested object of a row, for this service (marking every row it uses)."""
    row.services.add(service)
    path = path | {id(row)}
    obj = dict(row.values)
    if len(path) > MAX_DEPTH:
        return obj
    for key in hsds.ONE_IN.get(row.table, ()):
        table, column = hsds.ONE[key]
        value = obj.get(column)
        if value is None or value == "":
            continue
        target = index.get((table, str(value)))
        if target is None:
            words = f"{row.where}: its {column} {shown_value(value)} names no row of {table}.csv"
            problems[words] = None
        elif id(target) not in path:
            obj[key] = _build(target, index, children, service, path, problems)
    for child in children.get(id(row), []):
        if id(child) not in path:
            built = _build(child, index, children, service, path, problems)
            obj.setdefault(hsds.list_key(child.table), []).append(built)
    return obj


def _why_unused(row: Row, chain: frozenset = frozenset()) -> str:
    """Why no service used the row (kept in row.reason), its parent's reason first."""
    if row.services or row.reason:
        return row.reason
    if row.parent is not None:
        parent = row.parent
        if id(parent) in chain or len(chain) > MAX_DEPTH:
            why = "the rows it belongs to point at each other in a loop, not at a service"
        else:
            why = _why_unused(parent, chain | {id(row)})
        row.reason = f"belongs to the {parent.entity} of {parent.where}, which is not used: {why}"
        return row.reason
    row.reason = "not used"
    for table, keys in hsds.ONE_IN.items():
        for key in keys:
            if hsds.ONE[key][0] == row.table:
                pointer = hsds.entity_of(table).replace("_", " ")
                who = "no service" if table == "services" else f"no {pointer} of a service"
                row.reason = f"{who} names this {row.entity}"
    return row.reason
