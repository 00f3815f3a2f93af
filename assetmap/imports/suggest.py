"""Choosing a mapping on the import page: what each column likely holds, and what each value of
a free-text column ("Type": "Food bank") likely says about kind, strand and category.

The coordinator sees every suggestion preselected in a select and can change it; nothing here
is applied unseen. The result is an ordinary mapping (the sections of a mapping file, read by
assetmap.imports.mapping.parse_mapping), so the page, the saved mapping and `assetmap import
--mapping` are one format. Plain Python, no Flask.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from assetmap.imports import columns as cols
from assetmap.imports.limits import ImportLimits
from assetmap.imports.mapping import ANY_OTHER, Mapping, normalise_value, parse_mapping
from assetmap.imports.problems import ImportFileError
from assetmap.imports.readers import open_table
from assetmap.imports.tables import SourceRow, cell_text

# Rows read to show the columns and count their values; a longer file is previewed in full
# once the mapping is chosen.
SCAN_ROWS = 5000
# Values of one column offered one by one; rarer ones fall to "any other value".
MAX_VALUES = 40
SAMPLE_ROWS = 5

# Words that suggest a kind, strand or category, matched at the start of a word ("walk"
# matches "walking"). Only suggestions: every one is shown in a select to be confirmed.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "volunteering": ("volunteer",),
    "group": ("group", "club", "circle", "society", "choir", "association", "friends of",
              "shed", "network", "meet up", "meetup", "coffee morning", "forum", "committee"),
    "activity": ("class", "session", "walk", "course", "workshop", "activity", "activities",
                 "lesson", "exercise", "yoga", "dance", "swim", "tai chi"),
    "service": ("service", "advice", "support", "helpline", "food bank", "foodbank", "pantry",
                "clinic", "counselling", "drop in", "drop-in", "help", "information"),
    "place": ("centre", "center", "library", "park", "hall", "garden", "venue", "museum",
              "allotment", "space", "hub", "church", "pub"),
}  # fmt: skip
STRAND_WORDS: dict[str, tuple[str, ...]] = {
    "volunteer_peer_roles": ("volunteer", "peer", "befriend", "mentor", "buddy", "champion"),
    "collaborations_partnerships": ("partnership", "forum", "board", "alliance", "co-production",
                                    "coproduction", "research", "consultation", "steering"),
    "strengthening_communities": ("community development", "residents", "tenants",
                                  "community action", "neighbourhood", "campaign"),
    "access_community_resources": ("group", "club", "class", "activity", "activities",
                                   "service", "advice", "support", "food", "lunch", "walk",
                                   "library", "centre", "hub", "social prescribing", "session",
                                   "help"),
}  # fmt: skip
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "walking": ("walk", "ramble", "stroll"),
    "food_support": ("food bank", "foodbank", "pantry", "food parcel", "community fridge"),
    "lunch_clubs_food": ("lunch", "cafe", "café", "meal", "dinner", "cook"),
    "music_singing": ("music", "sing", "choir", "ukulele", "band", "kazoo"),
    "arts_creativity": ("art", "craft", "knit", "paint", "creative", "drama", "film"),
    "gardening_nature": ("garden", "allotment", "nature", "grow"),
    "physical_activity": ("exercise", "fitness", "yoga", "dance", "football", "swim", "sport",
                          "tai chi", "gym", "bowls", "cycl"),
    "befriending_social": ("befriend", "social", "coffee", "friendship", "lonel", "chat"),
    "learning_skills": ("learn", "course", "skills", "education", "esol", "english class"),
    "digital_inclusion": ("digital", "computer", "internet", "online", "tablet", "laptop"),
    "money_debt": ("debt", "money", "benefit", "welfare", "budget"),
    "employment": ("job", "employment", "work club", "career"),
    "housing": ("housing", "homeless", "tenancy"),
    "mental_wellbeing": ("mental", "wellbeing", "anxiety", "depression", "mind"),
    "carers": ("carer",),
    "bereavement": ("bereave", "grief"),
    "parenting_families": ("parent", "toddler", "baby", "babies", "stay and play", "famil"),
    "faith": ("church", "mosque", "faith", "prayer", "temple", "synagogue", "gurdwara"),
    "heritage": ("heritage", "history", "museum"),
    "mens_sheds": ("men's shed", "mens shed", "men’s shed"),
    "volunteering": ("volunteer",),
}  # fmt: skip
# The strand of most of what link workers look for, which the general words ("group", "club",
# "support") suggest: offered for every row, never value by value, where it would hide the
# strand chosen for every row.
GENERAL_STRAND = "access_community_resources"
# Headings of a column that may say what kind of thing each row is, when nothing else does.
_TYPE_HEADING = re.compile(r"type|kind|sort|sector|categor")


def _words_pattern(words: tuple[str, ...]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)


_PATTERNS = {
    name: {slug: _words_pattern(words) for slug, words in table.items()}
    for name, table in (
        ("kind", KIND_WORDS),
        ("strand", STRAND_WORDS),
        ("category", CATEGORY_WORDS),
    )
}


def suggest_for_value(value: str, texts: list[str] = ()) -> dict[str, str]:
    """The kind, strand and category that a value ("Lunch club") and the words of its rows
    (names, descriptions, categories) most suggest; words in the value itself count thrice, and
    its last word ("Walking group") more.
    A field is left out when no word suggests it."""
    found: dict[str, str] = {}
    last = value.split()[-1] if value.split() else ""
    for name, patterns in _PATTERNS.items():
        scores: Counter = Counter()
        for slug, pattern in patterns.items():
            scores[slug] += 3 * len(pattern.findall(value))
            scores[slug] += 2 * len(pattern.findall(last))  # "Walking group" is a group
            scores[slug] += sum(len(pattern.findall(text)) for text in texts)
        best = [(score, slug) for slug, score in scores.items() if score > 0]
        if best:
            # Ties go to the earlier slug in the table (its order is most specific first).
            order = list(patterns)
            found[name] = max(best, key=lambda s: (s[0], -order.index(s[1])))[1]
    return found


@dataclass
class FileSample:
    """The first rows of an import file, enough to choose its mapping."""

    headers: list[str]
    rows: list[SourceRow]
    unit: str = "row"
    has_geometry: bool = False
    more: bool = False  # whether the file has rows beyond those read

    def column_values(self, index: int) -> Counter:
        """How often each value of a column occurs in the rows read (by the value as written,
        first spelling kept for values that differ only in case or spacing)."""
        counts: Counter = Counter()
        spelled: dict[str, str] = {}
        for row in self.rows:
            if index < len(row.cells) and row.cells[index] not in (None, ""):
                text = " ".join(cell_text(row.cells[index]).split())
                if text:
                    counts[spelled.setdefault(normalise_value(text), text)] += 1
        return counts


def read_sample(
    path: str | Path,
    *,
    sheet: str | None = None,
    mapping: Mapping | None = None,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
    max_rows: int = SCAN_ROWS,
) -> FileSample:
    """The headings and first rows of a file (ImportFileError when it cannot be read)."""
    mapping = mapping or Mapping()
    table = open_table(
        path, sheet=sheet or mapping.sheet, headings=mapping.headings(), limits=limits
    )
    try:
        rows: list[SourceRow] = []
        more = False
        for row in table.rows:
            if len(rows) == max_rows:
                more = True
                break
            rows.append(row)
        return FileSample(list(table.headers), rows, table.unit, table.has_geometry, more)
    finally:
        table.close()


@dataclass
class ValueChoice:
    """One value of a column whose values say the kind, strand and category, with the fields
    chosen (or suggested) for it."""

    value: str
    count: int
    chosen: dict[str, str] = field(default_factory=dict)  # kind, strand, category


@dataclass
class ColumnChoice:
    """One column of the file, what it feeds, and (for a value column) its values."""

    index: int
    header: str
    target: str
    why: str
    examples: list[str]
    values: list[ValueChoice] = field(default_factory=list)
    other: dict[str, str] = field(default_factory=dict)  # for "any other value"
    others: int = 0  # distinct values beyond those listed

    @property
    def letter(self) -> str:
        return cols.column_letter(self.index)

    @property
    def label(self) -> str:
        return self.header or f"column {self.letter}"


def current_choices(sample: FileSample, mapping: Mapping) -> tuple[list[ColumnChoice], dict]:
    """Each column's target and each value's fields as the mapping has them, with suggestions
    where it says nothing; and the kind and strand for every row (the mapping's defaults)."""
    plan = cols.plan_columns(sample.headers, mapping, gis=sample.has_geometry)
    chosen: list[ColumnChoice] = []
    for column in plan.columns:
        target, why = column.target, column.how
        if column.how == "not recognised":
            target, why = cols.suggest_target(column.header)
        examples = [v for v, _ in sample.column_values(column.index).most_common(3)]
        chosen.append(ColumnChoice(column.index, column.header, target, why, examples))
    targets = {c.target for c in chosen}
    defaults = {k: str(v) for k, v in mapping.defaults.items() if k in ("kind", "strand")}
    if not ({"kind", "strand"} & (targets | set(defaults))) and cols.VALUES not in targets:
        for choice in chosen:  # "Type": offer its values as kinds and strands
            key = cols.normalise_header(choice.header)
            if choice.target == cols.EXTRA and key and _TYPE_HEADING.search(key):
                choice.target, choice.why = cols.VALUES, "may say what kind of thing each is"
                break
    gives_strand = "strand" in targets or "strand" in mapping.value_fields()
    if not gives_strand and not defaults.get("strand"):
        # One strand for every row, from the words of all the rows (most audits are of one
        # strand); a value whose own words say another is offered that one below.
        suggested = suggest_for_value("", _row_words(sample, chosen)).get("strand")
        if suggested:
            defaults["strand"] = suggested
    for choice in chosen:
        if choice.target == cols.VALUES:
            fill_values(choice, sample, chosen, mapping, defaults)
    return chosen, defaults


def _row_words(sample: FileSample, chosen: list[ColumnChoice]) -> list[str]:
    """The names, descriptions, categories and value columns of the rows read."""
    at = [c.index for c in chosen if c.target in ("name", "description", "categories", cols.VALUES)]
    return [
        cell_text(row.cells[i])
        for row in sample.rows
        for i in at
        if i < len(row.cells) and row.cells[i]
    ]


def fill_values(
    choice: ColumnChoice,
    sample: FileSample,
    chosen: list[ColumnChoice],
    mapping: Mapping,
    row_defaults: dict | None = None,
) -> None:
    """List a value column's values, each with the fields the mapping gives it or, failing
    that, those suggested by its words and its rows' names, descriptions and categories (less
    any that only repeat what is chosen for every row, `row_defaults`)."""
    counts = sample.column_values(choice.index)
    listed = counts.most_common(MAX_VALUES)
    choice.others = max(len(counts) - len(listed), 0)
    value_map = mapping.values.get(cols.normalise_header(choice.header))
    words_at = [c.index for c in chosen if c.target in ("name", "description", "categories")]
    texts: dict[str, list[str]] = {}
    for row in sample.rows:
        if choice.index < len(row.cells) and row.cells[choice.index] not in (None, ""):
            found = texts.setdefault(normalise_value(cell_text(row.cells[choice.index])), [])
            found += [
                cell_text(row.cells[i]) for i in words_at if i < len(row.cells) and row.cells[i]
            ]
    for value, count in listed:
        entry = value_map.entries.get(normalise_value(value)) if value_map is not None else None
        if entry is not None:
            fields_ = _as_choice(entry)
        else:  # a value the mapping has not met (a new copy's new kind of thing): suggest
            fields_ = suggest_for_value(value, texts.get(normalise_value(value), []))
            for name, slug in (row_defaults or {}).items():
                if fields_.get(name) == slug:
                    del fields_[name]
            if fields_.get("strand") == GENERAL_STRAND:
                del fields_["strand"]
        choice.values.append(ValueChoice(value, count, fields_))
    if value_map is not None and value_map.other:
        choice.other = _as_choice(value_map.other)


def _as_choice(entry: dict) -> dict[str, str]:
    """A value map's entry as the page's three selects show it."""
    shown = {k: str(entry[k]) for k in ("kind", "strand") if entry.get(k)}
    categories = entry.get("categories") or []
    if categories:
        shown["category"] = str(categories[0] if isinstance(categories, list) else categories)
    return shown


def mapping_data(
    headers: list[str],
    targets: dict[int, str],
    defaults: dict[str, str],
    values: dict[int, list[tuple[str, dict[str, str]]]],
    *,
    keep: dict | None = None,
    gis: bool = False,
) -> dict:
    """The chosen mapping as a mapping file's sections, checked by parse_mapping.

    `targets` is each column's chosen target (by index), `defaults` the kind and strand for
    every row, `values` each value column's (value, fields) pairs, where the value ANY_OTHER
    stands for any other value. Only columns chosen differently from what their headings
    already say are named, so the file stays short. `keep` carries the sections the page does
    not edit (source, sheet and [empty] of an uploaded mapping file).
    """
    data: dict = {k: v for k, v in (keep or {}).items() if k in ("source", "sheet", "empty")}
    automatic = cols.plan_columns(headers, Mapping(), gis=gis)
    column_targets: dict[str, str] = {}
    value_maps: dict[str, dict] = {}
    named: dict[str, tuple[cols.Column, str]] = {}
    for column in automatic.columns:
        target = targets.get(column.index, column.target)
        header = column.header
        if target != column.target and not cols.normalise_header(header):
            raise ImportFileError(
                f"column {column.letter} has no heading, so a mapping cannot name it; give it a "
                "heading in the spreadsheet and upload it again"
            )
        key = cols.normalise_header(header)
        if key in named and named[key][1] != target:
            first = named[key][0]
            raise ImportFileError(
                f"columns {first.letter} and {column.letter} are both headed “{header}”, so a "
                "mapping cannot tell them apart; choose the same for both, or rename one in the "
                "spreadsheet"
            )
        named.setdefault(key, (column, target))
        if target == cols.VALUES:
            entries = {}
            for value, chosen in values.get(column.index, []):
                entry = {k: v for k, v in chosen.items() if v and k in ("kind", "strand")}
                if chosen.get("category"):
                    entry["categories"] = [chosen["category"]]
                if entry:
                    entries[value] = entry
            if entries and header:
                value_maps[header] = entries
            elif header:
                column_targets[header] = cols.EXTRA  # no value says anything yet: keep the text
        elif header and (target != column.target or column.how == "used by another column"):
            column_targets[header] = target
    if column_targets:
        data["columns"] = column_targets
    if value_maps:
        data["values"] = value_maps
    kept_defaults = (keep or {}).get("defaults") or {}
    chosen_defaults = {k: v for k, v in kept_defaults.items() if k not in ("kind", "strand")}
    chosen_defaults |= {k: v for k, v in defaults.items() if v}
    if chosen_defaults:
        data["defaults"] = chosen_defaults
    parse_mapping(data)  # raises ImportFileError, naming the entry, if a choice is not valid
    return data


def chosen_columns(
    sample: FileSample, targets: dict[int, str], defaults: dict | None = None
) -> list[ColumnChoice]:
    """The columns with the targets chosen on the page; a value column's values are listed,
    each with its suggested fields, for the page to replace with those chosen."""
    chosen = []
    for index, header in enumerate(sample.headers):
        examples = [v for v, _ in sample.column_values(index).most_common(3)]
        target = targets.get(index, cols.EXTRA)
        chosen.append(ColumnChoice(index, str(header).strip(), target, "chosen", examples))
    for choice in chosen:
        if choice.target == cols.VALUES:
            fill_values(choice, sample, chosen, Mapping(), defaults)
    return chosen


def data_from_choices(
    sample: FileSample, chosen: list[ColumnChoice], defaults: dict, keep: dict | None = None
) -> dict:
    """The mapping file's sections for what the page shows as chosen (see mapping_data)."""
    values = {
        c.index: [(v.value, v.chosen) for v in c.values]
        + ([(ANY_OTHER, c.other)] if c.other else [])
        for c in chosen
        if c.target == cols.VALUES
    }
    return mapping_data(
        sample.headers,
        {c.index: c.target for c in chosen},
        defaults,
        values,
        keep=keep,
        gis=sample.has_geometry,
    )


@dataclass
class SampleRow:
    """One of the file's first rows as the chosen mapping reads it."""

    number: int
    record: dict | None
    problems: list


def try_mapping(
    db, sample: FileSample, mapping: Mapping, *, source: str, bounds
) -> tuple[cols.ColumnsRefused | None, list[SampleRow]]:
    """What the chosen mapping makes of the first rows, as the import would (the same
    cleaning, placing and validation), or why the file would still be refused."""
    from assetmap.imports.cleaning import RowCleaner
    from assetmap.imports.geocoding import Geocoder

    plan = cols.plan_columns(sample.headers, mapping, gis=sample.has_geometry)
    try:
        cols.check_required(plan, mapping, has_geometry=sample.has_geometry)
    except cols.ColumnsRefused as refused:
        return refused, []
    cleaner = RowCleaner(
        plan, mapping, source=source, unit=sample.unit, bounds=bounds, geocoder=Geocoder(db)
    )
    shown = []
    for row in sample.rows:
        prepared = cleaner.clean(row)
        if prepared.blank:
            continue
        shown.append(SampleRow(prepared.number, prepared.record, prepared.problems))
        if len(shown) == SAMPLE_ROWS:
            break
    return None, shown
