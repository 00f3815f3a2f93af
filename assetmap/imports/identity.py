"""Which asset a row is: the one it updates, a new one, or the same as another row.

A row with the file's own reference (a `source_id` column such as "Ref") is the asset with that
(source, source_id); an assetmap export's `id` column names the asset itself; any other row is
the asset with the same name and postcode, the name compared without regard to case,
punctuation or "&" against "and". So importing the same file twice finds every row's asset
and changes nothing.

Two things are flagged and never merged silently. Two rows of one file that are the same asset
cannot both be written, so the later one is rejected with the row it repeats. A new row with a
similar name within about 100 m of an asset already listed, or of an earlier row, is imported
and flagged as a possible duplicate for a coordinator to check. The nearest is named; at the
same distance (rows placed at one postcode's point often are), an asset already listed comes
before a row of the file, and the earliest row before later ones.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from assetmap.imports.cleaning import PreparedRow
from assetmap.imports.problems import DUPLICATE, ERROR, WARNING, Problem, shown_value
from assetmap.record import ids as asset_ids
from assetmap.record.history import changes as field_changes
from assetmap.record.validation import validate_asset
from assetmap.store import imports as store

DUPLICATE_DISTANCE_M = 100
SIMILAR_NAMES = 85  # rapidfuzz token_sort_ratio, 0 to 100
# Boxes that surely hold everything within DUPLICATE_DISTANCE_M as distance_m measures it
# (a degree of latitude is 111,195 m on its sphere); the exact distance then decides.
_BOX_HALF_LAT = DUPLICATE_DISTANCE_M / 111_195 * 1.05
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

# Rows of one file are compared only when their names share a word and they lie in the same
# or neighbouring cells of this grid (the cells that a box of about 100 m around the row
# touches: usually 2 or 3 by 2 or 3, more in the far north where a cell is narrower).
# Comparing every row with every row near it would not scale: a town centre has hundreds of
# postcodes within 100 m of each other. Words that tell names apart are used: not these, and
# not words in more than COMMON_SHARE of the file's rows so far (such as the council's name on
# every row).
CELL_LAT, CELL_LON = 0.0009, 0.0018  # 100 m of latitude; 100 m of longitude at 60°N
COMMON_SHARE = 0.02
STOP_WORDS = frozenset((
    "and", "the", "for", "with", "club", "group", "groups", "society", "association", "centre",
    "center", "community", "project", "service", "services", "session", "sessions", "meeting",
    "meetings", "network", "team", "friends", "people", "activity", "activities", "ltd",
    "limited", "cic", "trust", "charity", "church", "hall", "room", "class", "classes", "support",
))  # fmt: skip


@lru_cache(maxsize=4096)  # a row's name is looked at several times while it is resolved
def name_key(name: str) -> str:
    """A name as compared: "The Knit & Natter Group." and "knit and natter group" are alike."""
    text = unicodedata.normalize("NFKD", name).casefold().replace("&", " and ")
    text = text.replace("'", "").replace("\u2019", "")
    words = _NOT_ALNUM.sub(" ", text).split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


def name_words(key: str) -> list[str]:
    """The words of a normalised name that can tell it from others (not "group", not "12")."""
    words = [w for w in dict.fromkeys(key.split()) if len(w) >= 3 and not w.isdigit()]
    telling = [w for w in words if w not in STOP_WORDS]
    return telling or words or ([key] if key else [])


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_LAT), math.floor(lon / CELL_LON)


# Which (word, cell) keys some row of the file holds, one bit a key (a Bloom filter with one
# hash): nearly all of the nine cells around a row hold no earlier row with its words, and the
# bit says so without asking the TEMP table. A set bit may be another key's (about 1% of
# them at 100,000 rows); the table then answers. Its size is fixed, so memory stays flat.
_KEY_BITS = 1 << 25


def _cells_around(lat: float, lon: float) -> list[tuple[int, int]]:
    """The grid cells that the box of _BOX_HALF_LAT by _half_lon around a point touches, so
    everything within DUPLICATE_DISTANCE_M of it is in one of them, however far north."""
    half_lon = _half_lon(lat)
    south, west = _cell(lat - _BOX_HALF_LAT, lon - half_lon)
    north, east = _cell(lat + _BOX_HALF_LAT, lon + half_lon)
    return [(y, x) for y in range(south, north + 1) for x in range(west, east + 1)]


def _word_in_cell(word: str, y: int, x: int) -> int:
    """A (word, cell) key as a 64-bit number, which SQLite compares faster than text.

    Python's hash is the same throughout one process, and one import runs in one process (its
    TEMP tables vanish with its connection). Two keys that collide only make one more name to
    compare; the names and distances decide.
    """
    return hash((word, y, x))


def similar(a: str, b: str) -> bool:
    """Whether two normalised names are probably the same thing's.

    Reordered or slightly misspelt names match ("Walking Group Sale", "Sale Walking Group");
    so does a name inside another when the shorter has at least two words ("Sale Library",
    "Sale Central Library"), but not a single word ("Yoga", "Chair Yoga").
    """
    return bool(similar_among(a, [b]))


def similar_among(name: str, others: list[str]) -> list[int]:
    """The positions in `others` of names similar to `name` (see `similar`), compared in C."""
    from rapidfuzz import fuzz, process

    if not others:
        return []
    if len(others) <= _ONE_BY_ONE:
        return [i for i, other in enumerate(others) if _similar_pair(name, other)]
    found = {i for _, _, i in process.extract(
        name, others, scorer=fuzz.token_sort_ratio, score_cutoff=SIMILAR_NAMES, limit=None
    )}  # fmt: skip
    for _, _, i in process.extract(
        name, others, scorer=fuzz.token_set_ratio, score_cutoff=100, limit=None
    ):
        if i not in found and len(min(name, others[i], key=len).split()) >= 2:
            found.add(i)
    return sorted(found)


# Up to this many names, scoring each pair directly costs less than setting up process.extract.
_ONE_BY_ONE = 4
# A batch's assets already listed are fetched in one query when its box holds at most this many.
_BATCH_BOX_AT_MOST = 2_000


def _similar_pair(name: str, other: str) -> bool:
    from rapidfuzz import fuzz

    return bool(
        fuzz.token_sort_ratio(name, other, score_cutoff=SIMILAR_NAMES)
        or (
            fuzz.token_set_ratio(name, other, score_cutoff=100)
            and len(min(name, other, key=len).split()) >= 2
        )
    )


def _half_lon(lat: float) -> float:
    return _BOX_HALF_LAT / max(math.cos(math.radians(lat)), 0.01)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two nearby points (equirectangular: exact enough within a few km)."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return math.hypot(x, y) * 6_371_000


@dataclass
class Resolution:
    """What a valid row does: its outcome, its asset before and after, and what is flagged."""

    outcome: str
    asset_id: str | None = None
    record: dict | None = None
    existing: dict | None = None
    changes: list | None = None
    duplicate_of: str | None = None


class Resolver:
    """Matches the rows of one import to assets, a batch at a time.

    Assets a batch may update are fetched in a few queries per batch. What earlier batches of
    the file said lives in the store's TEMP tables, read once per batch and written once per
    batch; only the current batch is held in memory, so memory stays flat with the file.
    """

    def __init__(self, db, *, bounds, unit: str, id_column, name_column, has_source_column):
        self.db = db
        self.bounds = bounds
        self.unit = unit
        self.id_column = id_column  # the Column of id or source_id, if the file has one
        self.name_column = name_column
        self.has_source_column = has_source_column
        self._by_id: dict[str, dict] = {}
        self._by_source_id: dict[tuple[str, str], list[dict]] = {}
        self._by_number_id: dict[tuple[str, str], list[dict]] = {}
        self._by_postcode: dict[str, list[dict]] = {}
        self._word_counts: Counter[str] = Counter()
        # Sources of assets listed with the same name and postcode as a new row (see
        # other_source_hint).
        self._same_elsewhere: Counter[str] = Counter()
        self._rows_seen = 0
        # This batch: keys claimed, and rows by (word, cell); earlier batches' matching entries.
        self._claimed: dict[str, tuple[int, str]] = {}
        self._earlier_claims: dict[str, tuple[int, str]] = {}
        self._named: dict[int, list[tuple]] = {}
        self._earlier_named: dict[int, store.NearbyRows] = {}  # row -> earlier rows near it
        self._neighbours: dict[int, list[int]] = {}  # row -> its (word, cell) keys to look up
        self._around: dict[int, list[tuple[int, int]]] = {}  # row -> the grid cells around it
        self._keys_held = bytearray(_KEY_BITS // 8)  # see _KEY_BITS
        # Assets already listed around this batch's new rows by grid cell, or None to ask the
        # R*Tree row by row (see _assets_around).
        self._listed_near: dict[tuple[int, int], list[tuple]] | None = None

    def resolve_batch(self, rows: list[PreparedRow]) -> list[Resolution | None]:
        """Resolve a batch's rows in file order (None for rows rejected before matching)."""
        self._prefetch(rows)
        self._neighbours, self._around = {}, {}
        matches = [self._placed(row, self._match(row)) if row.record else None for row in rows]
        check: set[str] = set()
        probes: list[tuple[int, int]] = []
        new_rows: list[dict] = []
        for row, found in zip(rows, matches, strict=True):
            if found is None or isinstance(found, Resolution):
                continue
            asset_id, existing, how = found
            check.update(self._keys_to_check(row.record, asset_id, how))
            if existing is None:
                around = _cells_around(row.record["lat"], row.record["lon"])
                self._around[row.number] = around
                keys = self._neighbour_keys(row.record, around)
                self._neighbours[row.number] = keys
                probes.extend((row.number, key) for key in self._held(keys))
                new_rows.append(row.record)
        self._earlier_claims = store.claimed_keys(self.db, sorted(check))
        self._earlier_named = store.earlier_rows_sharing(self.db, probes)
        self._listed_near = self._assets_around(new_rows)
        self._claimed, self._named = {}, {}
        results = []
        for row, found in zip(rows, matches, strict=True):
            if row.file_id is not None and (found is None or isinstance(found, Resolution)):
                # Rejected before it was written: its id is still taken (PreparedRow.file_id).
                key = _source_key(*row.file_id)
                self._claimed.setdefault(key, (row.number, _digest(row.cells)))
            if found is None or isinstance(found, Resolution):
                results.append(found)
            else:
                results.append(self._resolve(row, *found))
        store.remember_batch(
            self.db,
            [(key, row_no, digest) for key, (row_no, digest) in self._claimed.items()],
            [entry for entries in self._named.values() for entry in entries],
        )
        return results

    def _assets_around(self, records: list[dict]) -> dict[tuple[int, int], list[tuple]] | None:
        """Assets already listed in the box around a batch's new rows, by grid cell.

        One R*Tree query for the batch instead of one a row, when the box holds few assets
        (an audit of one area imported into a directory of another, or into an empty one);
        None when it holds many, and each row asks for its own surroundings.
        """
        if not records:
            return {}
        lats = [r["lat"] for r in records]
        lons = [r["lon"] for r in records]
        half_lon = max(_half_lon(min(lats)), _half_lon(max(lats)))
        found = store.assets_in_box(
            self.db,
            (min(lons) - half_lon, min(lats) - _BOX_HALF_LAT),
            (max(lons) + half_lon, max(lats) + _BOX_HALF_LAT),
            at_most=_BATCH_BOX_AT_MOST,
        )
        if found is None:
            return None
        by_cell: dict[tuple[int, int], list[tuple]] = {}
        for asset in found:
            by_cell.setdefault(_cell(asset[2], asset[3]), []).append(asset)
        return by_cell

    def _listed_around(self, lat: float, lon: float, around: list) -> list[tuple]:
        """(id, name, lat, lon) of assets already listed within about 100 m and more; `around`
        is the grid cells around the point (see _cells_around)."""
        if self._listed_near is None:
            return store.nearby_assets(self.db, lat, lon, _BOX_HALF_LAT, _half_lon(lat))
        near = self._listed_near
        return [asset for cell in around if cell in near for asset in near[cell]]

    def _prefetch(self, rows: list[PreparedRow]) -> None:
        """Load every asset the valid rows of a batch might update."""
        ids, pairs, postcodes = set(), set(), set()
        for row in rows:
            record = row.record
            if record is None:
                continue
            if record["postcode"]:
                postcodes.add(record["postcode"])  # to match by name, or to flag the same name
            if record["id"]:
                ids.add(record["id"])
            elif record["source_id"]:
                pairs.add((record["source"], record["source_id"]))
                ids.add(asset_ids.asset_id(record))
            elif not record["postcode"]:
                made = self._position_id(record)
                ids.update([made, *asset_ids.earlier_ids(made, record)])
        self._by_id = store.assets_by_id(self.db, ids)
        self._by_source_id = store.assets_by_source_id(self.db, pairs)
        self._by_number_id = store.assets_by_number_id(
            self.db, [p for p in pairs if p not in self._by_source_id and p[1].isdigit()]
        )
        self._by_postcode = store.assets_by_postcode(self.db, postcodes)

    @staticmethod
    def _keys_to_check(record: dict, asset_id: str, how: str) -> list[str]:
        """The asset a row writes; for rows matched by the file's own id, also that id (two
        rows with one id and different names would otherwise make two assets); for rows
        matched by name, also its name and place."""
        keys = [f"asset:{asset_id}"]
        if how in ("source_id", "new-by-source-id"):
            keys.insert(0, _source_key(record["source"], record["source_id"]))
        elif how in ("name", "new-by-name"):
            keys.insert(0, _place_key(record))
        return keys  # the one that says most first: when both find one row, it is named

    def _neighbour_keys(self, record: dict, around: list[tuple[int, int]]) -> list[int]:
        """(word, cell) keys of the cells around a row, for the words that tell names apart.

        Words are judged common by the counts at the start of the batch, so that a preview and
        an import, and any run of the same file, judge alike.
        """
        words = name_words(name_key(record["name"]))
        limit = max(25, self._rows_seen * COMMON_SHARE)
        telling = [w for w in words if self._word_counts[w] <= limit]
        if not telling and words:
            telling = [min(words, key=lambda w: self._word_counts[w])]
        return [_word_in_cell(w, y, x) for w in telling for y, x in around]

    def _held(self, keys: list[int]) -> list[int]:
        """The keys that earlier batches may hold (see _KEY_BITS)."""
        held, mask = self._keys_held, _KEY_BITS - 1
        return [key for key in keys if held[(key & mask) >> 3] & (1 << (key & 7))]

    def _earlier(self, keys: list[str]) -> tuple[str, int, bool] | None:
        """The earliest row of the file (this batch or before) holding any of the keys."""
        found = None
        for key in keys:
            hit = self._claimed.get(key) or self._earlier_claims.get(key)
            if hit is not None and (found is None or hit[0] < found[1]):
                found = (key, hit[0], hit[1])
        return found

    def _resolve(self, row: PreparedRow, asset_id: str, existing: dict | None, how: str):
        """Catch a repeat within the file, build the record written, flag likely duplicates."""
        record = row.record
        digest = _digest(row.cells)
        earlier = self._earlier(self._keys_to_check(record, asset_id, how))
        if earlier:
            key, earlier_row, earlier_digest = earlier
            return self._repeat(row, how, (key, earlier_row, earlier_digest == digest), asset_id)
        for key in (f"asset:{asset_id}", _place_key(record)):
            self._claimed.setdefault(key, (row.number, digest))
        if record["source_id"]:
            key = _source_key(record["source"], record["source_id"])
            self._claimed.setdefault(key, (row.number, digest))
        final, problems = self._final_record(row, asset_id, existing, how)
        if final is None:
            row.problems.extend(problems)
            return Resolution(store.REJECTED)
        key = name_key(final["name"])
        words = name_words(key)
        duplicate_of = self._likely_duplicate(row, final, key) if existing is None else None
        y, x = _cell(final["lat"], final["lon"])
        place = f"{row.number},{final['lat']!r},{final['lon']!r}"  # see store.remember_batch
        for word in words:
            cell_key = _word_in_cell(word, y, x)
            bit = cell_key & (_KEY_BITS - 1)
            self._keys_held[bit >> 3] |= 1 << (bit & 7)
            self._named.setdefault(cell_key, []).append(
                (cell_key, row.number, key, final["lat"], final["lon"], place)
            )
        self._word_counts.update(words)
        self._rows_seen += 1
        if existing is None:
            return Resolution(store.NEW, asset_id, final, None, None, duplicate_of)
        if final == existing:
            return Resolution(store.UNCHANGED, asset_id, final, existing)
        return Resolution(store.CHANGED, asset_id, final, existing, field_changes(existing, final))

    def other_source_hint(self, rows: int) -> str | None:
        """A note when many new rows have the name and postcode of assets from one other source:
        the file is most likely a newer copy of that audit, imported under another source
        (taken from a file name such as "audit v2.csv"), so its rows were not matched."""
        if not self._same_elsewhere:
            return None
        source, count = self._same_elsewhere.most_common(1)[0]
        if count < 2 or count * 5 < rows:
            return None
        unit = self.unit
        return (
            f"{count:,} {unit}s have the same name and postcode as assets already listed from "
            f"the source “{source}”. If this file is a newer copy of that audit, import it with "
            f"that source (the Source name box, or --source {source}) so that its {unit}s "
            "update those assets instead of being added beside them."
        )

    # -- matching ------------------------------------------------------------------------------

    def _match(self, row: PreparedRow):
        """(asset id, the asset or None, how it was matched), or a rejection."""
        record = row.record
        if record["id"]:
            existing = self._by_id.get(record["id"])
            return record["id"], existing, "id"
        if record["source_id"]:
            matches = self._by_source_id.get((record["source"], record["source_id"]), [])
            if not matches:
                matches = self._same_number(row, record)
            if len(matches) > 1:
                return self._ambiguous(row, matches, f"source {record['source']!r} and this id")
            if matches:
                return matches[0]["id"], matches[0], "source_id"
            return self._unused_id(asset_ids.asset_id(record)), None, "new-by-source-id"
        if record["postcode"]:
            key = name_key(record["name"])
            candidates = self._by_postcode.get(record["postcode"], [])
            matches = [c for c in candidates if name_key(c["name"]) == key]
            if len(matches) > 1:
                return self._ambiguous(row, matches, "this name and postcode")
            if matches:
                return matches[0]["id"], matches[0], "name"
            return self._unused_id(asset_ids.asset_id(record)), None, "new-by-name"
        made = self._position_id(record)
        for asset_id in (made, *asset_ids.earlier_ids(made, record)):
            existing = self._by_id.get(asset_id)
            if existing is not None and name_key(existing["name"]) == name_key(record["name"]):
                return asset_id, existing, "name"
        return self._unused_id(made), None, "new-by-name"

    def _same_number(self, row: PreparedRow, record: dict) -> list[dict]:
        """The asset whose id is this row's number with 0s in front or without ("007", "7"),
        when no asset has the row's own: a spreadsheet drops them. The row says so."""
        given = record["source_id"]
        matches = self._by_number_id.get((record["source"], given), [])
        if len(matches) == 1:
            other = matches[0]["source_id"]
            label = self.id_column.label if self.id_column else "id"
            self._flag(
                row,
                WARNING,
                self.id_column,
                f"no asset has the {label} {given}, but {matches[0]['name']} has {other}, the "
                "same number with 0s in front or without (spreadsheets drop them), so this row "
                "updates it. Format the column as text in the spreadsheet to keep the 0s",
            )
        return matches

    def _placed(self, row: PreparedRow, found):
        """A row its postcode could not place (see PreparedRow.unplaced): rejected if it is a
        new asset; an asset already listed keeps its position, and the row says so."""
        if row.unplaced is None or isinstance(found, Resolution):
            return found
        column, why = row.unplaced
        if found[1] is None:
            self._flag(row, ERROR, column, why)
            return Resolution(store.REJECTED)
        self._flag(
            row,
            WARNING,
            column,
            f"{why}; the asset already listed keeps the position it has. Check it on the map",
        )
        return found

    def _unused_id(self, candidate: str) -> str:
        """The id a new asset gets; taken ids (an asset renamed since) get a number added."""
        if candidate not in self._by_id:
            return candidate
        return asset_ids.unused_id(
            candidate,
            lambda taken: taken in self._by_id or bool(store.assets_by_id(self.db, [taken])),
        )

    @staticmethod
    def _position_id(record: dict) -> str:
        return asset_ids.position_id(record, name_key)

    def _ambiguous(self, row: PreparedRow, matches: list[dict], what: str) -> Resolution:
        ids = ", ".join(m["id"] for m in matches[:5])
        self._flag(
            row,
            ERROR,
            self.id_column or self.name_column,
            f"matches {len(matches)} assets already listed with {what} ({ids}), so it is not "
            "clear which to update. Add an id column holding the asset's id (as assetmap's "
            "CSV export writes it) to say which",
        )
        return Resolution(store.REJECTED)

    def _repeat(self, row: PreparedRow, how: str, earlier, asset_id: str) -> Resolution:
        key, earlier_row, same_cells = earlier
        unit = self.unit
        if same_cells:
            message = (
                f"is a copy of {unit} {earlier_row}; delete one of the two {unit}s (only the "
                f"first is imported)"
            )
            column = self.name_column
        elif key.startswith("place:"):
            message = (
                f"has the same name and postcode as {unit} {earlier_row}. If they are "
                "different activities, give them different names (for example add the day); "
                f"if not, delete the {unit} that is out of date"
            )
            column = self.name_column
        elif how in ("id", "source_id", "new-by-source-id"):
            label = self.id_column.label if self.id_column else "id"
            message = (
                f"has the same {label} as {unit} {earlier_row} but different details; give each "
                f"asset its own {label}, or delete the {unit} that is out of date"
            )
            column = self.id_column
        else:
            message = (
                f"updates the same asset as {unit} {earlier_row} (id {asset_id}); keep only one "
                f"of the two {unit}s"
            )
            column = self.name_column
        self._flag(row, ERROR, column, message)
        return Resolution(store.REJECTED)

    # -- the record written ----------------------------------------------------------------------

    def _final_record(self, row: PreparedRow, asset_id: str, existing: dict | None, how: str):
        """The record to store: the row's own for a new asset; for an existing one, the asset
        with only the fields this file speaks for replaced."""
        record = dict(row.record)
        record["id"] = asset_id
        if existing is None:
            return record, []
        merged = dict(existing)
        for name in row.provided:
            merged[name] = record[name]
        if row.placed_by_postcode and existing.get("postcode") == merged.get("postcode"):
            # The postcode's point is rougher than a position someone set; keep that.
            merged["lat"], merged["lon"] = existing["lat"], existing["lon"]
            merged["position_source"] = existing.get("position_source")
        if merged == existing:
            return merged, []
        result = validate_asset(merged, bounds=self.bounds)
        if result.ok:
            return result.record, []
        problems = [
            Problem(
                ERROR,
                row.number,
                "",
                "",
                "",
                f"with this row's changes, asset {asset_id} would not be valid: {message}",
                self.unit,
            )
            for message in result.errors.values()
        ]
        return None, problems

    def _likely_duplicate(self, row: PreparedRow, record: dict, key: str) -> str | None:
        """Flag a new row near something with a similar name; returns what it may duplicate.

        Assets already listed are searched by position (R*Tree) and earlier rows of the file
        by shared words in neighbouring grid cells; an asset with the same name and postcode
        is flagged wherever it is.
        """
        lat, lon = record["lat"], record["lon"]
        if record["postcode"]:
            same = [
                c
                for c in self._by_postcode.get(record["postcode"], [])
                if name_key(c["name"]) == key and c["id"] != record["id"]
            ]
            if same and same[0].get("source") and same[0]["source"] != record["source"]:
                self._same_elsewhere[same[0]["source"]] += 1
            unclaimed = store.unclaimed(self.db, [c["id"] for c in same])
            for c in same:
                if c["id"] in unclaimed and f"asset:{c['id']}" not in self._claimed:
                    return self._flag_duplicate(
                        row, c["id"], None, c["name"], distance_m(lat, lon, c["lat"], c["lon"])
                    )
        # (asset id or None, row or None, compared name, lat, lon, name shown)
        candidates: list[tuple] = []
        around = self._around.get(row.number) or _cells_around(lat, lon)
        for asset_id, name, found_lat, found_lon in self._listed_around(lat, lon, around):
            if f"asset:{asset_id}" not in self._claimed:
                candidates.append((asset_id, None, name_key(name), found_lat, found_lon, name))
        for neighbour in self._neighbours.get(row.number, ()):
            for _, row_no, other, found_lat, found_lon, _ in self._named.get(neighbour, ()):
                if row_no != row.number:
                    candidates.append((None, row_no, other, found_lat, found_lon, other))
        best = None
        for i in similar_among(key, [c[2] for c in candidates]):
            best = _nearer(best, lat, lon, candidates[i])
        earlier = self._earlier_named.get(row.number)
        if earlier is not None:
            # Earlier rows come as text, joined in SQL: only similar names are looked at further.
            names = earlier.names.split("\x1f")
            places = None  # split only when a name is similar, and then once, not per name
            for i in similar_among(key, names):
                places = places or earlier.places.split(";")
                number, found_lat, found_lon = places[i].split(",")
                row_no, found_lat, found_lon = int(number), float(found_lat), float(found_lon)
                best = _nearer(
                    best, lat, lon, (None, row_no, names[i], found_lat, found_lon, names[i])
                )
        if best is None:
            return None
        metres, _, _, asset_id, row_no, name = best
        return self._flag_duplicate(row, asset_id, row_no, name, metres)

    def _flag_duplicate(self, row, asset_id, row_no, name, metres) -> str:
        if asset_id is not None:
            message = (
                f"may be the same as “{name}”, already listed {metres:.0f} m away (id "
                f"{asset_id}). It is added as a new asset and flagged: check both, and archive "
                "one if they are the same"
            )
            duplicate_of = asset_id
        else:
            message = (
                f"may be the same as {self.unit} {row_no} of this file, {metres:.0f} m away with "
                "a similar name. Both are added and flagged: check them, and archive one if they "
                "are the same"
            )
            duplicate_of = f"{self.unit} {row_no}"
        self._flag(row, DUPLICATE, self.name_column, message)
        return duplicate_of

    def _flag(self, row: PreparedRow, level: str, column, message: str) -> None:
        value = ""
        if column is not None and column.index < len(row.cells):
            value = shown_value(row.cells[column.index])
        row.problems.append(
            Problem(
                level,
                row.number,
                column.label if column is not None else "",
                column.letter if column is not None and self.unit == "row" else "",
                value,
                message,
                self.unit,
            )
        )


def _nearer(best: tuple | None, lat: float, lon: float, candidate: tuple) -> tuple | None:
    """The nearer of `best` and a candidate within DUPLICATE_DISTANCE_M; at the same distance,
    an asset already listed before a row of the file, and an earlier row before a later one."""
    asset_id, row_no, _, found_lat, found_lon, name = candidate
    metres = distance_m(lat, lon, found_lat, found_lon)
    if metres > DUPLICATE_DISTANCE_M:
        return best
    found = (metres, asset_id is None, row_no or 0, asset_id, row_no, name)
    if best is None or found[:3] < best[:3]:
        return found
    if found[:3] == best[:3] and asset_id is not None and asset_id < best[3]:
        return found
    return best


def _source_key(source: str, source_id: str) -> str:
    """The file's own id for a row, with its source."""
    return f"source:{source}\n{source_id}"


def _place_key(record: dict) -> str:
    """Name and postcode (or position, when there is no postcode): rows alike in both repeat."""
    where = record["postcode"] or f"{record['lat']:.4f},{record['lon']:.4f}"
    return f"place:{name_key(record['name'])}|{where}"


def _digest(cells: list) -> int:
    """A fingerprint of a row's cells, to tell an exact copy from a conflicting row.

    Python's hash of the cells' reprs (so that 1, 1.0 and True, or -1 and -2, whose own hashes
    are alike, differ), as for _word_in_cell: the same throughout the one process that
    resolves an import's rows.
    """
    return hash("\x1f".join(map(repr, cells)))
