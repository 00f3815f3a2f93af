"""The store: every SQL statement the app runs lives in this package.

Views, the CLI and the logic modules call these functions and never write SQL themselves, so
that another backend (PostgreSQL/PostGIS for several servers) can be added here alone.
"""

from assetmap.store.connection import Busy, connect, initialise, is_busy

__all__ = ["Busy", "connect", "initialise", "is_busy"]
