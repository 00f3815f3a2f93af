"""Coordinator imports: spreadsheets and GIS files in, with a preview, row-level errors and undo.

Plain Python with no Flask import, so `assetmap import` and the coordinators' import page run
the same code. The steps, one module each:

    limits                 how much of a file may be read, checked before anything parses it
    readers / text / gis   open a CSV, workbook, GeoJSON, GeoPackage or zipped shapefile, as
                           a Table of SourceRows (tables)
    columns / mapping      which column holds which field (aliases, or a mapping file)
    cleaning               trim and repair each row; validation.validate_asset checks it
    placing / geocoding    where each row is: geometry, coordinates, grid references, postcode
    parallel               cleaning in worker processes, for large files on the command line
    identity               which asset a row is; repeats and likely duplicates
    pipeline               preview or apply, recording the run
    problems / report      what is said about each row and about the whole file
    export                 the rejected rows as a CSV to fix and import again
    pending / storage      uploads waiting to be confirmed, and archived copies of imported files
    undo                   put back what a run changed, or say why not (the work itself is
                           assetmap.store.imports.undo_run)

The SQL is in assetmap.store.imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assetmap.imports.mapping import Mapping, load_mapping
    from assetmap.imports.pipeline import ImportOptions, apply, preview
    from assetmap.imports.problems import ImportFileError, Problem
    from assetmap.imports.report import ImportReport

# Each name's module, imported when the name is first used (PEP 562): every app and command
# reads assetmap.imports.limits, which should not load the whole pipeline with it (issue 19).
_MODULES = {
    "Mapping": "mapping",
    "load_mapping": "mapping",
    "ImportOptions": "pipeline",
    "apply": "pipeline",
    "preview": "pipeline",
    "ImportFileError": "problems",
    "Problem": "problems",
    "ImportReport": "report",
}


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)


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
