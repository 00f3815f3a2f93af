"""GeoJSON, GeoPackage and zipped shapefiles, reprojected to WGS84 longitude/latitude.

GeoJSON is read with the json module rather than GDAL so that one bad feature is one rejected
row with its number, not a refused file, and so that list and object properties (categories,
a schedule) arrive as they were written. GeoPackages and shapefiles go through GDAL (pyogrio).

Files from council GIS teams are usually in British National Grid (EPSG:27700) and sometimes
lack the .prj file that says so. Such a file is read as British National Grid when its
coordinates can only be eastings and northings, as longitude/latitude when they can only be
that, and refused otherwise; the preview says which was assumed.

A file is read whole, so its features, columns and cells are all checked against the import's
limits before the first row is used. A zipped shapefile never reaches GDAL as a zip (GDAL's
/vsizip/ is not Python's zipfile, and would unpack whatever a member holds): its few files are
unpacked by zipfile, which reads no more than the zip's checked directory says, into a
temporary folder, and GDAL reads them from there.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

from assetmap.imports import text
from assetmap.imports.limits import DAMAGED_ZIP, MAX_SHAPE_POINTS, ZIP_READ_ERRORS, ImportLimits
from assetmap.imports.problems import ImportFileError
from assetmap.imports.tables import SourceRow, Table

WGS84 = "EPSG:4326"
BRITISH_NATIONAL_GRID = "EPSG:27700"


def guess_crs(bounds: tuple[float, float, float, float]) -> str | None:
    """WGS84 or British National Grid from the extent of coordinates with no stated system."""
    min_x, min_y, max_x, max_y = bounds
    if not all(math.isfinite(b) for b in bounds):
        return None
    if -180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90:
        return WGS84
    if 0 <= min_x <= max_x <= 800_000 and 0 <= min_y <= max_y <= 1_400_000:
        return BRITISH_NATIONAL_GRID
    return None


def _assumed_note(crs: str, what: str, remedy: str) -> str:
    """Say which coordinate system was assumed for a file that names none, and why."""
    if crs == BRITISH_NATIONAL_GRID:
        looks = "British National Grid eastings and northings"
    else:
        looks = "longitude and latitude (WGS84)"
    return (
        f"{what} does not say which coordinate system it uses. Its coordinates look like "
        f"{looks}, so they were read as that; if the assets appear in the wrong place, {remedy}."
    )


_NO_CRS_REFUSAL = (
    "does not say which coordinate system it uses, and its coordinates are neither longitude "
    "and latitude nor British National Grid eastings and northings. Export it again with its "
    "coordinate system (for a shapefile, include the .prj file), or as GeoJSON in WGS84"
)

# ---------------------------------------------------------------------------------------------
# GeoJSON
# ---------------------------------------------------------------------------------------------


def read_geojson(path: Path, limits: ImportLimits = ImportLimits()) -> Table:  # noqa: B008
    """A GeoJSON FeatureCollection (or one Feature); any named CRS is reprojected to WGS84."""
    document = load_json(path, limits)
    if not is_geojson(document):
        raise ImportFileError(
            'is JSON but not GeoJSON: it should be an object with "type": "FeatureCollection" '
            'and a list of "features"'
        )
    return geojson_table(document, limits)


def load_json(path: Path, limits: ImportLimits = ImportLimits()) -> object:  # noqa: B008
    """A JSON file (GeoJSON, or a list of records), parsed whole.

    json reads the file whole, into two to fifteen times its size (a long list of coordinates
    costs the most), so it gets a tenth of the data limit, like the parts of a workbook that are
    read whole; its features or records are checked before the first is used. json itself
    refuses nesting deeper than Python's recursion limit; the readers refuse far less."""
    size = path.stat().st_size
    kind = "GeoJSON" if path.suffix.lower() == ".geojson" else "JSON"
    if size > limits.whole_part_bytes:
        remedy = (
            "Export the layer as a GeoPackage, or split it into smaller files"
            if kind == "GeoJSON"
            else "Split the records into smaller files, or export them as CSV UTF-8"
        )
        raise ImportFileError(
            f"is {kind} of {size / (1024 * 1024):,.1f} MB, which is read whole; the most such a "
            f"file may hold is {limits.whole_part_bytes / (1024 * 1024):,.1f} MB, a tenth of the "
            f"ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB setting. {remedy}"
        )
    encoding = text.detect_encoding(path)
    again = (
        "Export the GeoJSON again from the GIS"
        if kind == "GeoJSON"
        else "Export the file again from the system it came from"
    )
    try:
        with text.open_text(path, encoding) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ImportFileError(
            f"is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}. {again}, or "
            "check that line in a text editor"
        ) from None
    except RecursionError:
        raise limits.nested_too_deep(None, "in the file") from None
    except (UnicodeDecodeError, MemoryError):
        raise ImportFileError(f"cannot be read as {kind}; export it again as UTF-8") from None


def is_geojson(document: object) -> bool:
    """Whether a parsed JSON file is GeoJSON: a Feature, a FeatureCollection, or a bare list
    of Features (which some tools write)."""
    if isinstance(document, dict):
        return document.get("type") in ("Feature", "FeatureCollection")
    return (
        isinstance(document, list)
        and bool(document)
        and all(isinstance(f, dict) and f.get("type") == "Feature" for f in document)
    )


def geojson_table(document: object, limits: ImportLimits = ImportLimits()) -> Table:  # noqa: B008
    """The features of a parsed GeoJSON document as a table (see is_geojson)."""
    if isinstance(document, list):
        features = document
        document = {"type": "FeatureCollection", "features": features}
    elif document.get("type") == "Feature":
        features = [document]
    else:
        features = document.get("features")
        if not isinstance(features, list):
            raise ImportFileError('is a FeatureCollection without a "features" list')
    if not features:
        raise ImportFileError("is a GeoJSON FeatureCollection with no features in it")
    if len(features) > limits.max_rows:
        raise limits.too_many_rows("feature", len(features))
    headers: list[str] = []
    known: set[str] = set()
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(properties, dict):
            for key in properties:
                if key not in known:
                    known.add(key)
                    headers.append(str(key))
                    if len(headers[-1]) > limits.cell_chars:
                        raise limits.cell_too_big(
                            len(headers[-1]), f"the name of a property of feature {number}"
                        )
            limits.check_row(number, list(properties.values()), "feature", list(properties))
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if (points := _points(geometry)) > MAX_SHAPE_POINTS:
            raise limits.shape_too_big(points, f"feature {number}")
    if len(headers) > limits.max_columns:
        raise limits.too_many_columns(len(headers), "different properties across its features")
    notes: list[str] = []
    transform = _geojson_transform(document, features, notes)
    rows = _geojson_rows(features, headers, transform)
    return Table(
        f"GeoJSON, {_count(len(features), 'feature')}",
        headers,
        rows,
        unit="feature",
        notes=notes,
        has_geometry=True,
    )


def _points(geometry: object) -> int:
    """How many positions a GeoJSON geometry holds, however its coordinates nest."""
    if not isinstance(geometry, dict):
        return 0
    if isinstance(geometry.get("geometries"), list):
        return sum(_points(g) for g in geometry["geometries"])
    stack, points = [geometry.get("coordinates")], 0
    while stack:
        item = stack.pop()
        if isinstance(item, list) and item:
            if isinstance(item[0], list):
                stack.extend(item)
            else:
                points += 1
    return points


def _declared_crs(document: dict) -> str | None:
    """The CRS named by a pre-2016 GeoJSON "crs" member, if any (RFC 7946 drops it)."""
    crs = document.get("crs")
    if not isinstance(crs, dict):
        return None
    name = (
        (crs.get("properties") or {}).get("name")
        if isinstance(crs.get("properties"), dict)
        else None
    )
    return name if isinstance(name, str) else None


def _geojson_transform(document, features, notes: list[str]):
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    declared = _declared_crs(document) if isinstance(document, dict) else None
    if declared:
        try:
            crs = CRS.from_user_input(declared)
        except CRSError:
            raise ImportFileError(
                f"names the coordinate system {declared!r}, which we do not know; export it "
                "again as GeoJSON in WGS84 (EPSG:4326)"
            ) from None
        if crs.equals(CRS.from_epsg(4326)) or crs.equals(CRS.from_user_input("OGC:CRS84")):
            return None
        notes.append(f"Coordinates were converted from {crs.name} to longitude and latitude.")
        return Transformer.from_crs(crs, WGS84, always_xy=True).transform
    bounds = _features_bounds(features)
    if bounds is None:
        return None
    guessed = guess_crs(bounds)
    if guessed == BRITISH_NATIONAL_GRID:
        notes.append(_assumed_note(guessed, "The GeoJSON", "export it again as GeoJSON in WGS84"))
        return Transformer.from_crs(BRITISH_NATIONAL_GRID, WGS84, always_xy=True).transform
    return None


def _features_bounds(features) -> tuple[float, float, float, float] | None:
    from shapely.geometry import shape

    xs: list[float] = []
    ys: list[float] = []
    for feature in features:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        try:
            min_x, min_y, max_x, max_y = shape(geometry).bounds
        except Exception:  # a bad geometry is reported on its own row
            continue
        xs += [min_x, max_x]
        ys += [min_y, max_y]
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _reprojected(shaped, transform):
    """A shapely geometry with every coordinate passed through a pyproj transform (x, y)."""
    import numpy as np
    import shapely

    def move(coordinates):
        x, y = transform(coordinates[:, 0], coordinates[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(shaped, move)


def _geojson_rows(features, headers, transform):
    from shapely.geometry import mapping, shape

    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            yield SourceRow(
                number,
                [],
                problem='is not a GeoJSON Feature (an object with "type": "Feature"); export '
                "the layer again from the GIS",
            )
            continue
        properties = feature.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        cells = [properties.get(h) for h in headers]
        geometry = feature.get("geometry")
        if geometry is None:
            yield SourceRow(number, cells)
            continue
        try:
            shaped = shape(geometry)
            if transform is not None:
                shaped = _reprojected(shaped, transform)
            yield SourceRow(number, cells, geometry=mapping(shaped))
        except Exception:  # shapely raises several kinds for malformed coordinates
            kind = geometry.get("type") if isinstance(geometry, dict) else None
            yield SourceRow(
                number,
                cells,
                problem=f"has a {kind or 'geometry'} whose coordinates cannot be read; "
                "redraw it or export the layer again",
            )


# ---------------------------------------------------------------------------------------------
# GeoPackage and shapefile, through GDAL
# ---------------------------------------------------------------------------------------------


def read_zipped_shapefile(
    path: Path,
    shapefiles: list[str],
    names: list[str],
    layer: str | None,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """One shapefile from a zip: the only one, or the one named as the layer.

    The zip's directory has been checked against the limits (ImportLimits.check_archive)."""
    stems = {Path(n).stem: n for n in shapefiles}
    if layer:
        inner = stems.get(layer) or next(
            (n for s, n in stems.items() if s.casefold() == layer.casefold()), None
        )
        if inner is None:
            raise ImportFileError(
                f"has no shapefile called “{layer}”; it holds " + ", ".join(stems)
            )
    else:
        inner = shapefiles[0]
    base = inner[: -len(".shp")]
    present = {n.lower() for n in names}
    missing = [ext for ext in (".shx", ".dbf") if (base + ext).lower() not in present]
    if missing:
        raise ImportFileError(
            f"holds {Path(inner).name} without its {' and '.join(missing)} "
            f"{'file' if len(missing) == 1 else 'files'}. Zip all the parts of the shapefile "
            "(.shp, .shx, .dbf and .prj) together and import the zip"
        )
    notes = []
    if len(shapefiles) > 1 and not layer:
        notes.append(
            f"The zip holds {len(shapefiles)} shapefiles ({', '.join(stems)}); only "
            f"“{Path(inner).stem}” was imported. To import another, give its name as the layer."
        )
    no_prj = (base + ".prj").lower() not in present
    folder = Path(tempfile.mkdtemp(prefix="assetmap-shapefile-"))
    try:
        shp = _unpack_shapefile(path, base, names, folder)
        return read_gdal(shp, "Shapefile", None, notes=notes, no_prj=no_prj, limits=limits)
    finally:
        # GDAL has read the whole layer by now (read_gdal reads it into a data frame).
        shutil.rmtree(folder, ignore_errors=True)


_SHAPEFILE_FILES = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _unpack_shapefile(path: Path, base: str, names: list[str], folder: Path) -> Path:
    """The shapefile's own files, unpacked from the zip into `folder`; the .shp's path.

    Each file keeps the shapefile's name (GDAL names the layer after it), with a lower-case
    extension and without the zip's folders."""
    stem = re.split(r"[\\/]", base)[-1]
    if not stem or stem in {".", ".."} or "\x00" in stem or len(stem.encode()) > 200:
        stem = "layer"
    by_lower = {n.lower(): n for n in names}
    try:
        with zipfile.ZipFile(path) as archive:
            for extension in _SHAPEFILE_FILES:
                member = by_lower.get((base + extension).lower())
                if member is None:
                    continue
                with (
                    archive.open(member) as source,
                    (folder / (stem + extension)).open("wb") as out,
                ):
                    shutil.copyfileobj(source, out, 1 << 20)
    except ZIP_READ_ERRORS:
        raise ImportFileError(DAMAGED_ZIP) from None
    return folder / (stem + ".shp")


def read_gdal(
    path: Path | str,
    kind: str,
    layer: str | None,
    *,
    notes: list[str] | None = None,
    no_prj: bool = False,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """A layer of a file GDAL reads, reprojected to WGS84 (or refused with a reason).

    Its columns are counted before it is read, at most one feature more than the limit is
    read, and its cells are measured before the first row is used."""
    import pyogrio

    notes = list(notes or [])
    try:
        with warnings.catch_warnings():
            # GDAL's own warnings ("bad application_id") mean nothing to a coordinator; what
            # matters is whether the file can be read, which the exceptions say.
            warnings.simplefilter("ignore")
            layers = [str(row[0]) for row in pyogrio.list_layers(str(path))]
    except Exception:  # pyogrio raises several kinds for files GDAL cannot open
        raise ImportFileError(
            f"could not be read as a {kind}: it may be damaged. Export it again from the GIS"
        ) from None
    if not layers:
        raise ImportFileError(f"is a {kind} with no layers in it")
    if kind == "GeoPackage":
        if layer:
            chosen = next((n for n in layers if n == layer), None) or next(
                (n for n in layers if n.casefold() == layer.casefold()), None
            )
            if chosen is None:
                raise ImportFileError(
                    f"has no layer called “{layer}”; its layers are " + ", ".join(layers)
                )
        else:
            chosen = layers[0]
            if len(layers) > 1:
                notes.append(
                    f"The GeoPackage has {len(layers)} layers ({', '.join(layers)}); only the "
                    f"first, “{chosen}”, was imported. To import another, give its name as the "
                    "layer."
                )
    else:
        chosen = layers[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            columns = len(pyogrio.read_info(str(path), layer=chosen)["fields"])
            if columns > limits.max_columns:
                raise limits.too_many_columns(columns, f"fields of the layer “{chosen}”")
            frame = pyogrio.read_dataframe(
                str(path), layer=chosen, max_features=limits.max_rows + 1
            )
    except ImportFileError:
        raise
    except Exception as e:  # GDAL reports damage in many ways
        raise ImportFileError(
            f"could not be read as a {kind} ({str(e).split(';')[0]}). Export it again from the GIS"
        ) from None
    if len(frame) == 0:
        raise ImportFileError(f"has a layer “{chosen}” with no features in it")
    if len(frame) > limits.max_rows:
        raise limits.too_many_rows("feature")
    frame = _to_wgs84(frame, kind, notes, no_prj)
    headers = [str(c) for c in frame.columns if c != frame.geometry.name]
    _check_cells(frame, headers, limits)
    _check_shapes(frame, limits)
    return Table(
        f"{kind}, layer “{chosen}”, {_count(len(frame), 'feature')}"
        if kind == "GeoPackage"
        else f"{kind} “{chosen}”, {_count(len(frame), 'feature')}",
        headers,
        _frame_rows(frame, headers),
        unit="feature",
        notes=notes,
        has_geometry=True,
    )


def _to_wgs84(frame, kind: str, notes: list[str], no_prj: bool):
    if frame.crs is None:
        bounds = tuple(float(b) for b in frame.total_bounds)
        guessed = guess_crs(bounds)  # type: ignore[arg-type]
        if guessed is None:
            raise ImportFileError(_NO_CRS_REFUSAL)
        if no_prj:
            what, remedy = "The shapefile has no .prj file, so it", "add its .prj file to the zip"
        else:
            what, remedy = f"The {kind}", "export it again with its coordinate system"
        notes.append(_assumed_note(guessed, what, remedy + " and import again"))
        frame = frame.set_crs(guessed)
    if frame.crs.to_epsg() != 4326:
        notes.append(f"Coordinates were converted from {frame.crs.name} to longitude and latitude.")
        frame = frame.to_crs(WGS84)
    return frame


def _check_cells(frame, headers: list[str], limits: ImportLimits) -> None:
    """Refuse a layer with a cell over the cell limit (GeoPackage text has no limit of its own)."""
    import pandas as pd

    for header in headers:
        column = frame[header]
        if not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
            continue
        try:
            lengths = column.str.len().fillna(0)
        except AttributeError:  # a column of objects that are not text
            continue
        if len(lengths) and (longest := int(lengths.max())) > limits.cell_chars:
            feature = int(lengths.to_numpy().argmax()) + 1
            raise limits.cell_too_big(longest, f"feature {feature}, property {header}")


def _check_shapes(frame, limits: ImportLimits) -> None:
    """Refuse a layer with a shape of more points than an import reads."""
    import shapely

    points = shapely.get_num_coordinates(frame.geometry.values)
    if len(points) and (most := int(points.max())) > MAX_SHAPE_POINTS:
        raise limits.shape_too_big(most, f"feature {int(points.argmax()) + 1}")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _plain(value):
    """A value from a data frame as plain Python: NaN and NaT are empty, numpy scalars unwrapped."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        try:
            return value.to_pydatetime()
        except ValueError:
            return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _frame_rows(frame, headers):
    from shapely.geometry import mapping

    geometries = frame.geometry
    columns = [frame[h] for h in headers]
    for position in range(len(frame)):
        cells = [_plain(column.iloc[position]) for column in columns]
        shaped = geometries.iloc[position]
        geometry = None if shaped is None or shaped.is_empty else mapping(shaped)
        yield SourceRow(position + 1, cells, geometry=geometry)
