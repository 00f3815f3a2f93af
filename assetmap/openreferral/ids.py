"""The stable UUIDs this directory publishes: one namespace, one rule.

HSDS ids are UUIDs, and a directory that re-keys its records on every rebuild breaks every
neighbour that links to them; so each id is a uuid5 of a name made of slugs and asset ids
("service/<asset id>", "taxonomy_term/<taxonomy>/<term>"), the same on every build.
"""

from __future__ import annotations

import uuid

# The namespace of every id this directory publishes. Never change it: every id would change.
NAMESPACE = uuid.UUID("6f1d3c2e-5b0a-5e7f-9c1d-2a4b6e8f0a13")


def stable_id(*parts: str) -> str:
    """A UUID that is the same every time for the same parts ("service", asset id, ...)."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))
