"""sqlite_utils, imported without making every command wait for pandas and numpy.

sqlite_utils.db imports pandas and numpy whenever they are installed (geopandas installs them)
only to know the SQLite column type for their number and timestamp values when it makes a table
from rows. assetmap never has it do that: the tables come from store.schema's SQL, and the store
uses a sqlite_utils.Database only for its connection (`db.conn`). Importing the two costs about
a quarter of a second, as long as the whole of `assetmap users list` should take (issue 19).

Importing this module imports sqlite_utils with pandas and numpy hidden from this thread's
imports while it loads, when they are not loaded already; a process that has loaded them (to
read a GIS file, say) gets sqlite_utils exactly as it would anyway. Another thread importing
pandas meanwhile is not affected. Use `from assetmap.store.sqlite_utils_without_pandas import
sqlite_utils` where the store opens a database.
"""

from __future__ import annotations

import importlib
import sys
import threading

_NOT_NEEDED = ("pandas", "numpy")


class _NotNeeded:
    """An import finder telling one thread that pandas and numpy are not installed."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if name in _NOT_NEEDED and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"{name} is not needed by sqlite_utils here", name=name)
        return None  # the other finders find everything else as usual


def _import():
    if "sqlite_utils" in sys.modules:
        return sys.modules["sqlite_utils"]
    finder = _NotNeeded()
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module("sqlite_utils")
    finally:
        sys.meta_path.remove(finder)


sqlite_utils = _import()
