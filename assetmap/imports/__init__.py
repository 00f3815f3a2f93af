"""Coordinator imports: spreadsheets and GIS files in, with a preview, row-level errors and undo.

Plain Python with no Flask import, so `assetmap import` and the coordinators' import page run
the same code. The steps, one module each:

    readers / text / gis   open a CSV, workbook, GeoJSON, GeoPackage or zipped shapefile
    columns / mapping      which column holds which field (aliases, or a mapping file)
    cleaning / geocoding   trim, repair and place each row; validation.validate_asset checks it
    identity               which asset a row is; repeats and likely duplicates
    pipeline               preview or apply, in one transaction, recording the run
    export                 the rejected rows as a CSV to fix and import again
    undo                   put back what a run changed

The SQL is in assetmap.store.imports.
"""

from assetmap.imports.mapping import Mapping, load_mapping
from assetmap.imports.pipeline import ImportOptions, apply, preview
from assetmap.imports.problems import ImportFileError, Problem
from assetmap.imports.report import ImportReport

__all__ = [
    "ImportFileError",
    "ImportOptions",
    "ImportReport",
    "Mapping",
    "Problem",
    "apply",
    "load_mapping",
    "preview",
]
