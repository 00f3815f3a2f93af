"""Mapping files: what a coordinator tells the import that it cannot guess.

A mapping file is TOML (or the same structure as JSON). It names columns the aliases do not
know, turns the values of a free-text column ("Type": "Walking group") into fields (kind,
strand, categories), sets a value for every row that the file lacks, and changes which cell
values count as empty. Every part is optional; docs/importing.md has an example.

    source = "trafford-audit-2024"     # the source recorded on each asset (or use --source)
    sheet = "Assets"                   # which sheet of a workbook (or layer of a GeoPackage)

    [columns]
    "Group" = "name"
    "Ref no" = "source_id"
    "Notes for us" = "internal_notes"
    "Filled in by" = "ignore"          # read and not kept

    [values."Type"]
    "Walking group" = { kind = "group", categories = ["walking"] }
    "Lunch club" = { kind = "group", categories = ["lunch_clubs_food"], audiences = ["adults"] }
    "*" = { kind = "activity" }        # any other value

    [defaults]
    strand = "access_community_resources"

    [empty]
    also = ["TBC", "unknown"]          # or values = [...] to replace the list

The mapping is checked when it is read, so a typo in it is one message, not one per row.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assetmap.imports.columns import PSEUDO_FIELDS, TARGETS, normalise_header
from assetmap.imports.problems import ImportFileError
from assetmap.record import fields
from assetmap.record.validation import validate_asset

# Cells that mean "nothing here". Compared without regard to case or spacing.
DEFAULT_EMPTY_VALUES: tuple[str, ...] = (
    "NA", "N/A", "n.a.", "-", "--", "–", "—", "?", "none", "nil", "null", "not relevant",
    "not applicable", "not known", "unknown", "#N/A", "TBC",
)  # fmt: skip

ANY_OTHER = "*"
_SECTIONS = ("source", "sheet", "columns", "values", "defaults", "empty")
_SPLIT = re.compile(r"\s*[;,/|\n]\s*")


@lru_cache(maxsize=16_384)  # short cells ("free", "NA", a strand) recur row after row
def normalise_value(text: object) -> str:
    """A cell value as compared with empty markers and value-map keys."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return " ".join(text.split()).rstrip(".").strip()


@dataclass
class ValueMap:
    """How the values of one free-text column become fields."""

    heading: str
    entries: dict[str, dict[str, object]]
    other: dict[str, object] | None = None

    def fields(self) -> set[str]:
        names = {name for entry in self.entries.values() for name in entry}
        return names | set(self.other or {})

    def translate(self, value: str) -> tuple[dict[str, object], list[str], list[str]]:
        """The fields a cell's value stands for, the parts no entry matched, and conflicts.

        A cell may hold several values ("Walking; Lunch club"): list fields take the union,
        single fields the first, and a disagreement is reported rather than settled silently.
        """
        key = normalise_value(value)
        if key in self.entries:
            return dict(self.entries[key]), [], []
        found: dict[str, object] = {}
        unmatched: list[str] = []
        conflicts: list[str] = []
        for part in filter(None, _SPLIT.split(value.strip())):
            entry = self.entries.get(normalise_value(part))
            if entry is None:
                unmatched.append(part)
                continue
            for name, raw in entry.items():
                if fields.FIELDS_BY_NAME[name].type in (fields.CHOICES, fields.TEXT_LIST):
                    merged = list(found.get(name, []))
                    merged += [v for v in _as_list(raw) if v not in merged]
                    found[name] = merged
                elif name not in found:
                    found[name] = raw
                elif found[name] != raw:
                    conflicts.append(f"{name} {found[name]!r} and {raw!r}")
        if not found and self.other is not None:
            return dict(self.other), [], []
        return found, unmatched, conflicts


def _as_list(raw: object) -> list:
    return list(raw) if isinstance(raw, (list, tuple)) else [raw]


@dataclass
class Mapping:
    """Everything a mapping file can say; an empty Mapping means "use the aliases"."""

    columns: dict[str, str] = field(default_factory=dict)  # normalised heading -> target
    values: dict[str, ValueMap] = field(default_factory=dict)  # normalised heading -> map
    defaults: dict[str, object] = field(default_factory=dict)
    empty_values: frozenset[str] = frozenset(normalise_value(v) for v in DEFAULT_EMPTY_VALUES)
    source: str | None = None
    sheet: str | None = None
    file_name: str | None = None

    def value_fields(self) -> set[str]:
        """Fields that some value map can fill."""
        return {name for value_map in self.values.values() for name in value_map.fields()}

    def headings(self) -> frozenset[str]:
        """Normalised headings the mapping names, so header detection recognises them."""
        return frozenset(self.columns) | frozenset(self.values)

    def is_empty(self, text: str) -> bool:
        return normalise_value(text) in self.empty_values


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; ImportFileError says what to fix, with the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("is not UTF-8 text; save the mapping file as UTF-8") from None
    except OSError as e:
        raise ImportFileError(f"cannot be read ({e.strerror})") from None
    data = _parse(text, path.suffix.lower())
    mapping = parse_mapping(data)
    mapping.file_name = path.name
    return mapping


def read_mapping_data(path: str | Path) -> dict:
    """A mapping file as the plain sections it holds (checked), to edit on the import page."""
    path = Path(path)
    try:
        data = _parse(path.read_text(encoding="utf-8-sig"), path.suffix.lower())
    except (OSError, UnicodeDecodeError):
        raise ImportFileError("cannot be read as UTF-8 text") from None
    parse_mapping(data)
    return data


def _parse(text: str, suffix: str) -> dict:
    if suffix == ".json" or (suffix != ".toml" and text.lstrip().startswith("{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ImportFileError(
                f"is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
            ) from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ImportFileError(
                f"is not a mapping file we can read: {e}. See docs/importing.md for the format"
            ) from None
    if not isinstance(data, dict):
        raise ImportFileError("must hold sections such as [columns]; see docs/importing.md")
    return data


def parse_mapping(data: dict) -> Mapping:
    """A Mapping from the parsed TOML or JSON, with every name and value checked."""
    unknown = [key for key in data if key not in _SECTIONS]
    if unknown:
        raise ImportFileError(
            f"has an unknown entry {unknown[0]!r}; a mapping file may have source, sheet, "
            "[columns], [values], [defaults] and [empty]"
        )
    mapping = Mapping()
    for key in ("source", "sheet"):
        if key in data:
            if not isinstance(data[key], str) or not data[key].strip():
                raise ImportFileError(f"has {key} = {data[key]!r}; give it as text in quotes")
            setattr(mapping, key, data[key].strip())
    for heading, target in _table(data, "columns").items():
        if not isinstance(target, str) or target not in TARGETS:
            raise ImportFileError(
                f'[columns] "{heading}" = {target!r}: that is not a field. Use one of '
                f"{', '.join(sorted(TARGETS))}"
            )
        mapping.columns[normalise_header(heading)] = target
    for heading, entries in _table(data, "values").items():
        if not isinstance(entries, dict):
            raise ImportFileError(
                f'[values."{heading}"] must be a table of values, such as '
                '"Walking group" = { kind = "group", categories = ["walking"] }'
            )
        value_map = ValueMap(heading, {})
        for value, entry in entries.items():
            where = f'[values."{heading}"] "{value}"'
            checked = _checked_fields(entry, where)
            if value == ANY_OTHER:
                value_map.other = checked
            else:
                value_map.entries[normalise_value(value)] = checked
        mapping.values[normalise_header(heading)] = value_map
    if _table(data, "defaults"):
        mapping.defaults = _checked_fields(_table(data, "defaults"), "[defaults]")
    empty = _table(data, "empty")
    if empty:
        listed = {key: empty.get(key) for key in ("values", "also") if key in empty}
        if (
            not listed
            or set(empty) - {"values", "also"}
            or not all(
                isinstance(v, list) and all(isinstance(i, str) for i in v) for v in listed.values()
            )
        ):
            raise ImportFileError(
                '[empty] takes values = ["NA", ...] (replacing the usual list) or also = '
                '["TBC", ...] (adding to it)'
            )
        base = set() if "values" in listed else set(mapping.empty_values)
        base |= {normalise_value(v) for v in listed.get("values", []) + listed.get("also", [])}
        mapping.empty_values = frozenset(base)
    return mapping


def _table(data: dict, name: str) -> dict:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ImportFileError(f"[{name}] must be a section of name = value lines")
    return table


def _checked_fields(entry: object, where: str) -> dict[str, object]:
    """Field values from a mapping, each checked as an asset field would be."""
    if not isinstance(entry, dict) or not entry:
        raise ImportFileError(
            f'{where} must give fields, such as {{ kind = "group", categories = ["walking"] }}'
        )
    for name, raw in entry.items():
        if name not in fields.FIELDS_BY_NAME or name in PSEUDO_FIELDS:
            raise ImportFileError(
                f"{where}: {name!r} is not a field; use one of {', '.join(fields.FIELD_NAMES)}"
            )
        error = validate_asset({name: raw}, bounds=None).errors.get(name)
        if error:
            raise ImportFileError(f"{where}: {error}")
    return dict(entry)


def parse_defaults(pairs: list[str] | tuple[str, ...]) -> dict[str, object]:
    """`kind=service` and the like (the command line's --default), checked as [defaults] is.

    A list field takes its items separated by commas: `categories=walking,gardening_nature`.
    """
    data: dict[str, object] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or not value:
            raise ImportFileError(
                f"--default {pair!r} should be a field, an equals sign and a value, such as "
                "--default kind=service"
            )
        field_ = fields.FIELDS_BY_NAME.get(name)
        if field_ is not None and field_.type in (fields.CHOICES, fields.TEXT_LIST):
            data[name] = [item.strip() for item in value.split(",") if item.strip()]
        else:
            data[name] = value
    return _checked_fields(data, "--default") if data else {}


def mapping_text(data: dict) -> str:
    """A mapping (as the sections parse_mapping reads) written as a TOML mapping file, for a
    coordinator to download, keep and give to `assetmap import --mapping`.

    Strings are written as JSON writes them, which is also how TOML writes a basic string.
    """
    parse_mapping(data)  # never write a file that would not read back
    lines = ["# A mapping file for assetmap imports (see the guide to importing)."]
    for key in ("source", "sheet"):
        if data.get(key):
            lines.append(f"{key} = {_toml(data[key])}")
    if data.get("columns"):
        lines += ["", "[columns]"]
        lines += [f"{_toml(h)} = {_toml(t)}" for h, t in data["columns"].items()]
    for heading, entries in (data.get("values") or {}).items():
        lines += ["", f"[values.{_toml(heading)}]"]
        lines += [f"{_toml(v)} = {_toml(entry)}" for v, entry in entries.items()]
    for section in ("defaults", "empty"):
        if data.get(section):
            lines += ["", f"[{section}]"]
            lines += [f"{name} = {_toml(value)}" for name, value in data[section].items()]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(f"a mapping cannot hold {type(value).__name__}")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)
