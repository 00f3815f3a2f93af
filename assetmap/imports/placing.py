"""Where a row's asset is: from its geometry, its coordinates, its eastings and northings, or
its postcode, with what was odd about them said in words a coordinator can act on.

The repairs are the ones a coordinator would make by hand: latitude and longitude put back
the right way round, "53.4263N" and "53,4263" read as numbers, eastings and northings (in their
own columns or in lat and lon) converted, 0, 0 treated as no position, a postcode taken from
the address, a missing position found from the postcode. What cannot be repaired is one error
about the position, not validation's "lat is required" as well.

The postcode and grid lookups themselves are in assetmap.imports.geocoding.
"""

from __future__ import annotations

import json
import math
import re

from assetmap.imports import columns as cols
from assetmap.imports.geocoding import Geocoder, from_grid, looks_like_grid
from assetmap.imports.problems import ERROR, WARNING
from assetmap.imports.tables import cell_text
from assetmap.record.fields import GIVEN
from assetmap.record.validation import inside_bounds
from assetmap.search.postcodes import digit_readings, normalise_postcode

# Row-level facts about placing, counted and reported once for the file (see report.py).
PLACED_FROM_POSTCODE = "placed from the postcode"
POSTCODE_FROM_ADDRESS = "postcode taken from the address"
CONVERTED_FROM_GRID = "converted from eastings and northings"

_POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.I)
_NUMBER_WITH_COMMA = re.compile(r"-?\d+,\d+")


class RowPlacer:
    """The placing half of assetmap.imports.cleaning.RowCleaner, which is made of it.

    It works on the cleaner's row in progress: the cleaner's `plan`, `bounds` and `geocoder`,
    the row being cleaned (`_row`, whose facts, `unplaced` and `placed_by_postcode` it sets),
    `_problem` to report, and `_failed_position`, set when the position has been reported
    so that validation's own message about it is left out. It keeps nothing between rows.
    """

    plan: cols.ColumnPlan
    bounds: tuple[float, float, float, float] | None
    geocoder: Geocoder | None
    _failed_position: bool
    _failed: set[str]

    def _postcode(self, data, origin, provided) -> None:
        raw = data.get("postcode")
        if raw is None:
            address = data.get("address")
            if isinstance(address, str) and (found := _postcode_in(address)):
                data["postcode"] = found
                origin["postcode"] = (origin.get("address", (None, None))[0], address)
                provided.add("postcode")
                self._row.facts += (POSTCODE_FROM_ADDRESS,)
            return
        text = cell_text(raw)
        if normalise_postcode(text) is not None:
            return
        if self._read_digits(data, origin, raw, text):
            return
        found = _postcode_in(text)
        if found:
            data["postcode"] = found
            column = origin["postcode"][0]
            self._row.extra[f"{column.label if column else 'postcode'} (as written)"] = text
            self._problem(
                WARNING,
                column,
                raw,
                f"the postcode {found} was taken from this text; put only the postcode in this "
                "column. The full text is kept as extra information",
            )

    def _read_digits(self, data, origin, raw, text: str) -> bool:
        """A postcode with a letter where a digit belongs ("WA15 OHF"): corrected when the
        postcode table holds exactly one reading of it, with a warning naming both; otherwise
        an error that suggests the likely postcode. False when no reading is a postcode."""
        readings = digit_readings(text)
        if not readings:
            return False
        column = origin["postcode"][0]
        known = [p for p in readings if self.geocoder is not None and self.geocoder.exists(p)]
        if len(known) == 1:
            data["postcode"] = known[0]
            self._problem(
                WARNING,
                column,
                raw,
                f"has {_letters_for_digits(text, known[0])}; it was read as {known[0]}, which "
                "is in our postcode list. Correct it in the file",
            )
            return True
        likely = known or readings
        self._failed.add("postcode")  # said here; validation's own message would repeat it
        self._problem(
            ERROR,
            column,
            raw,
            f"is not a UK postcode: it has {_letters_for_digits(text, likely[0])}. Did you mean "
            f"{' or '.join(likely[:3])}? "
            + (
                "None of these is in our postcode list, so check the postcode; "
                if not known and self.geocoder is not None and self.geocoder.has_postcodes()
                else ""
            )
            + "correct it in the file and import it again",
        )
        return True

    def _place(self, data, origin, pseudo, geometry, provided) -> None:
        """Latitude and longitude from the geometry, the file's coordinates, or the postcode,
        with how they were found (position_source)."""
        self._place_from(data, origin, pseudo, geometry, provided)
        if "lat" in provided or "lon" in provided:
            data.setdefault("position_source", GIVEN)
            provided.add("position_source")
        else:
            provided.discard("position_source")

    def _place_from(self, data, origin, pseudo, geometry, provided) -> None:
        for name in ("lat", "lon"):
            if _not_a_number(data.get(name)):
                del data[name]  # "NaN" from pandas or a JSON export: an empty cell
        for name in (cols.EASTING, cols.NORTHING, cols.COORDINATES):
            if name in pseudo and _not_a_number(pseudo[name][1]):
                del pseudo[name]
        if geometry is not None:
            self._from_geometry(data, origin, geometry, provided)
            return
        if cols.COORDINATES in pseudo and "lat" not in data and "lon" not in data:
            column, value = pseudo[cols.COORDINATES]
            pair = re.split(r"[,;\s]+", cell_text(value).strip())
            if len(pair) == 2:
                data["lat"], data["lon"] = pair
                origin["lat"] = origin["lon"] = (column, value)
            else:
                self._position_error(
                    column,
                    value,
                    "is not a latitude and longitude; write them as 53.4263, -2.3034",
                )
                return
        if (cols.EASTING in pseudo or cols.NORTHING in pseudo) and not self._from_grid_columns(
            data, origin, pseudo
        ):
            return
        lat, lon = data.get("lat"), data.get("lon")
        if lat is None and lon is None:
            self._from_postcode(data, origin, provided)
            return
        if lat is None or lon is None:
            given, missing = ("lat", "lon") if lon is None else ("lon", "lat")
            self._position_error(
                origin.get(missing, (self.plan.column_for(missing), None))[0],
                "",
                f"{missing} is empty but {given} is not; give both, or leave both empty to "
                "place the asset from its postcode",
            )
            return
        lat_n, lon_n = _coordinate(lat), _coordinate(lon)
        if lat_n is None or lon_n is None:
            for name, number in (("lat", lat_n), ("lon", lon_n)):
                if number is not None:
                    data[name] = number
            return  # validation names the cell that is not a number
        if lat_n == 0 and lon_n == 0:
            del data["lat"], data["lon"]
            self._from_postcode(data, origin, provided, zero=True)
            return
        if looks_like_grid(lon_n, lat_n) and not _headed_wgs84(origin):
            lat_n, lon_n = from_grid(lon_n, lat_n)
            self._row.facts += (CONVERTED_FROM_GRID,)
        elif self._swapped(lat_n, lon_n):
            column = origin["lat"][0]
            self._problem(
                WARNING,
                column,
                f"{lat}, {lon}",
                f"latitude and longitude were the wrong way round (lat {lat_n:g}, lon {lon_n:g}); "
                "they were swapped. Check that the two columns are headed the right way",
            )
            lat_n, lon_n = lon_n, lat_n
        # To 6 decimal places (about 0.1 m), as GIS files are read: finer is no truer, and a
        # file's 53.38705468210445 would otherwise "change" an asset stored at 53.387055.
        data["lat"], data["lon"] = round(lat_n, 6), round(lon_n, 6)
        data["position_source"] = GIVEN

    def _swapped(self, lat: float, lon: float) -> bool:
        if self.bounds is None:
            return abs(lat) > 90 and abs(lon) <= 90
        return not inside_bounds(lon, lat, self.bounds) and inside_bounds(lat, lon, self.bounds)

    def _from_grid_columns(self, data, origin, pseudo) -> bool:
        """Latitude and longitude from eastings and northings; False when they are unusable."""
        if cols.EASTING not in pseudo or cols.NORTHING not in pseudo:
            column, value = pseudo.get(cols.EASTING) or pseudo[cols.NORTHING]
            self._position_error(
                column,
                value,
                "has an easting or a northing but not both; give both, or neither",
            )
            return False
        (e_column, easting), (_, northing) = pseudo[cols.EASTING], pseudo[cols.NORTHING]
        e, n = _coordinate(easting), _coordinate(northing)
        if e is None or n is None or not (0 <= e <= 800_000 and 0 <= n <= 1_400_000):
            self._position_error(
                e_column,
                f"{easting}, {northing}",
                "is not a British National Grid easting and northing (eastings run from 0 to "
                "700000 and northings from 0 to 1300000, in metres); check both cells",
            )
            return False
        if "lat" not in data and "lon" not in data:
            data["lat"], data["lon"] = from_grid(e, n)
            origin["lat"] = origin["lon"] = (e_column, f"{easting}, {northing}")
            self._row.facts += (CONVERTED_FROM_GRID,)
        return True

    def _from_postcode(self, data, origin, provided, *, zero: bool = False) -> None:
        postcode = data.get("postcode")
        column = origin.get("postcode", (self.plan.column_for("postcode"), None))[0]
        canonical = normalise_postcode(str(postcode)) if postcode is not None else None
        if canonical is None:
            self._failed_position = postcode is not None  # validation names the postcode
            if postcode is None:
                lat_column = self.plan.column_for("lat") or column
                address = self.plan.column_for("address")
                if lat_column is None and address is not None and not zero:
                    # The file's only clue to where things are is the address.
                    self._position_error(
                        address,
                        data.get("address") or "",
                        "has no postcode in it, and the file has no postcode or lat and lon "
                        "columns, so the asset cannot be placed; add the postcode to the "
                        "address, or give lat and lon",
                    )
                    return
                self._position_error(
                    lat_column,
                    "0, 0" if zero else "",
                    "0, 0 is not a real position, and there is no postcode to place it from; "
                    "give lat and lon, or a postcode"
                    if zero
                    else "has no position; give lat and lon, or a postcode to place it from",
                )
            return  # validation says what is wrong with the postcode
        if self.geocoder is None:
            self._position_error(column, postcode, "has no lat and lon; give them")
            return
        place = self.geocoder.place(canonical)
        if isinstance(place, str):
            self._row.unplaced = (column, f"the asset has no lat and lon, and {place}")
            # A stand-in position, never stored, so that the row's other cells are checked.
            data["lat"], data["lon"] = self._stand_in
            origin["lat"] = origin["lon"] = (column, postcode)
            provided -= {"lat", "lon"}
            data.pop("position_source", None)
            return
        data["lat"], data["lon"] = place.lat, place.lon
        data["position_source"] = place.source
        origin["lat"] = origin["lon"] = (column, postcode)
        self._row.placed_by_postcode = True
        self._row.facts += (PLACED_FROM_POSTCODE,)
        provided |= {"lat", "lon"}
        if zero:
            self._problem(
                WARNING,
                self.plan.column_for("lat"),
                "0, 0",
                "0, 0 is not a real position (it is in the Atlantic), so the asset was placed "
                "from its postcode instead",
            )
        if not place.exact:
            self._problem(
                WARNING,
                column,
                postcode,
                f"placed at {place.words}; check the postcode, or give lat and lon",
            )

    def _from_geometry(self, data, origin, geometry, provided) -> None:
        from shapely import make_valid
        from shapely.geometry import mapping, shape

        kind = geometry.get("type")
        shaped = shape(geometry)
        origin["lat"] = origin["lon"] = (None, kind)
        if kind == "Point":
            point = shaped
        elif kind in ("Polygon", "MultiPolygon"):
            if not shaped.is_valid:
                repaired = make_valid(shaped)
                if repaired.geom_type in ("Polygon", "MultiPolygon"):
                    shaped = repaired
                    self._problem(
                        WARNING,
                        None,
                        kind,
                        f"the {kind}'s edges crossed, so it was repaired; check the service "
                        "area on the map",
                    )
            point = shaped.representative_point()
            data["service_area"] = json.loads(json.dumps(mapping(shaped)))
            origin["service_area"] = (None, kind)
            provided.add("service_area")
        elif kind in ("LineString", "MultiLineString"):
            point = shaped.interpolate(0.5, normalized=True)
            self._problem(
                WARNING,
                None,
                kind,
                "is a line (such as a route); the asset is placed at its middle and the line "
                "itself is not kept",
            )
        elif kind == "MultiPoint" and not shaped.is_empty:
            point = shaped.geoms[0]
            self._problem(
                WARNING,
                None,
                kind,
                f"has {len(shaped.geoms)} points; the asset is placed at the first. Give each "
                "place its own feature",
            )
        else:
            self._position_error(
                None,
                kind,
                f"has a {kind} geometry; give each asset a point, or a polygon for an area",
            )
            return
        lat, lon = round(point.y, 6), round(point.x, 6)
        origin["lat"] = origin["lon"] = (None, f"{kind} at {lon:g}, {lat:g}")
        if kind in ("Point", "MultiPoint") and self._swapped(lat, lon):
            self._problem(
                WARNING,
                None,
                f"{kind} at {lon:g}, {lat:g}",
                "the point's latitude and longitude were the wrong way round (GeoJSON gives "
                "longitude first); they were swapped. Check how the file was made",
            )
            lat, lon = lon, lat
        data["lat"], data["lon"] = lat, lon
        data["position_source"] = GIVEN
        provided |= {"lat", "lon"}

    def _position_error(self, column: cols.Column | None, value: object, message: str):
        """An error about where the asset is: validation's "lat is required" would repeat it."""
        self._failed_position = True
        self._problem(ERROR, column, value, message)

    @property
    def _stand_in(self) -> tuple[float, float]:
        """The middle of the bounds (lat, lon): a position validation accepts, given to a row
        its postcode cannot place so that its other cells are checked (see unplaced)."""
        if self.bounds is None:
            return (54.0, -2.0)
        min_lon, min_lat, max_lon, max_lat = self.bounds
        return ((min_lat + max_lat) / 2, (min_lon + max_lon) / 2)


def _headed_wgs84(origin) -> bool:
    """Whether the lat column's heading says its numbers are WGS84 ("lat (WGS84)", as the Open
    Referral reader heads them, since the standard's are): then 100 is a latitude out of range,
    never a British National Grid easting guessed at."""
    column = origin.get("lat", (None, None))[0]
    return column is not None and "wgs84" in re.sub(r"[^0-9a-z]", "", column.header.casefold())


def _not_a_number(value: object) -> bool:
    """Whether a cell is "NaN" (as pandas and JSON exports write an empty number)."""
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() == "nan"


def _letters_for_digits(text: str, postcode: str) -> str:
    """ "the letter O where a zero belongs", for the characters `postcode` reads as digits."""
    compact = "".join(text.split()).upper()
    names = {"O": "the letter O where a zero belongs", "I": "the letter I where a 1 belongs"}
    names["L"] = "the letter L where a 1 belongs"
    pairs = zip(compact, postcode.replace(" ", ""), strict=False)
    found = [names[c] for c, d in pairs if c != d and c in names]
    return " and ".join(dict.fromkeys(found)) or "a letter where a digit belongs"


def _postcode_in(text: str) -> str | None:
    match = _POSTCODE_IN_TEXT.search(text)
    return normalise_postcode(f"{match.group(1)} {match.group(2)}") if match else None


def _coordinate(value: object) -> float | None:
    """A coordinate as a number, read the ways spreadsheets write them, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().replace("°", "").replace(" ", "")
        sign = 1.0
        if text[-1:].upper() in ("N", "S", "E", "W"):
            sign = -1.0 if text[-1].upper() in ("S", "W") else 1.0
            text = text[:-1]
        if _NUMBER_WITH_COMMA.fullmatch(text):
            text = text.replace(",", ".")  # a decimal comma, as European spreadsheets write
        try:
            number = float(text) * sign
        except ValueError:
            return None
    return number if math.isfinite(number) else None
