"""The API and its OpenAPI document agree, as schemathesis checks them.

Schemathesis reads /api/openapi.json from the app itself (through WSGI, no server), then runs
every operation through its phases (the document's examples, boundary values, random requests,
and sequences of requests) with all its default checks: no server errors; only documented
statuses and content types; answers that match their schemas; requests the document allows
accepted and requests it forbids refused; 405 with Allow for methods an address does not take.

The run is bounded and seeded, so it is the same run every time and stays well under a minute.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")

from schemathesis.config import CacheConfig, SchemathesisConfig  # noqa: E402
from schemathesis.engine import StopReason, events, from_schema  # noqa: E402

from assetmap import create_app  # noqa: E402
from tests.conftest import make_asset, save_raw  # noqa: E402

EXAMPLES_PER_OPERATION = 25
SEED = 20261212

# Rules the document states in words because OpenAPI 3.0 cannot state them as schemas: a
# request that breaks one is allowed by the schema yet refused, rightly. Each is
# (operation, status, parameter, words in the error); only "valid data was refused" failures
# that match one are set aside, and every other check still applies to those answers.
UNSTATED_RULES = (
    # One centre: a postcode, or lat with lon; not both, not neither.
    ("GET /api/v1/search", 400, "postcode", "give a postcode"),
    ("GET /api/v1/search", 400, "lat", "is needed with"),
    ("GET /api/v1/search", 400, "lon", "is needed with"),
    # Any text may be sent as a postcode; only a postcode (or a sector or district) that the
    # local table can place is searched from.
    ("GET /api/v1/search", 422, "postcode", ""),
    # A time range ends after it starts.
    ("GET /api/v1/search", 400, "time", "ends before it starts"),
    # A bounding box's latitudes are -90..90, and each minimum is at most its maximum.
    ("GET /api/v1/assets", 400, "bbox", "must not exceed"),
    # Open Referral UK: a proximity is measured from a postcode, which must be one the local
    # table can place; keywords are at most a dozen words.
    *(
        rule
        for path in ("/api/oruk/services", "/api/oruk/service_at_locations")
        for rule in (
            (f"GET {path}", 400, "proximity", "needs a postcode"),
            (f"GET {path}", 422, "postcode", ""),
            (f"GET {path}", 400, "search", "at most"),
        )
    ),
)


def _breaks_an_unstated_rule(operation: str, response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    details = body.get("details") if isinstance(body, dict) else None
    if not isinstance(details, dict):
        return False
    return any(
        operation == rule_operation
        and response.status_code == status
        and details.get("parameter") == parameter
        and words in body.get("error", "")
        for rule_operation, status, parameter, words in UNSTATED_RULES
    )


@pytest.fixture
def api_app(trafford_db_path):
    """The sample assets, Trafford's postcodes, and two assets that test the edges of the
    document: a session with no stated times, and an asset with nothing optional filled in."""
    db_path = trafford_db_path
    edges = [
        make_asset(
            id="drop-in-no-times",
            name="Drop-in with no stated times",
            schedule={
                "sessions": [
                    {"day": "wednesday", "frequency": "weekly", "start": None, "end": None}
                ],
                "notes": "Drop in on Wednesday afternoons.",
            },
        ),
        {
            "id": "nothing-optional",
            "name": "Nothing optional",
            "kind": "place",
            "strand": "strengthening_communities",
            "lat": 53.4301,
            "lon": -2.3101,
        },
    ]
    save_raw(db_path, edges)
    return create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})


def _config() -> SchemathesisConfig:
    config = SchemathesisConfig(cache=CacheConfig(enabled=False))
    config.update(seed=SEED, max_failures=None)  # no max_time: one pass of each phase
    # Its WSGI transport sends requests' "Accept-Encoding: gzip, deflate" but, unlike an HTTP
    # client, never undoes the encoding; the answers are compressed (assetmap.web.delivery),
    # so ask for them plain. tests/test_delivery.py checks the compressed ones decode the same.
    config.projects.override.update(headers={"Accept-Encoding": "identity"})
    config.projects.override.generation.update(
        max_examples=EXAMPLES_PER_OPERATION, deterministic=True, database="none"
    )
    return config


def test_every_api_answer_matches_the_openapi_document(api_app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api_app, config=_config())

    @schema.hook
    def filter_failure(context, failure, case, response):
        refused = type(failure).__name__ == "RejectedPositiveData"
        return not (refused and _breaks_an_unstated_rule(case.operation.label, response))

    started = time.monotonic()
    problems, errors = [], []
    requests: Counter[str] = Counter()
    finished = None
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            requests[recorder.label] += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    sent = recorder.interactions.get(case_id)
                    problems.append(
                        f"{event.phase.value} {recorder.label}: {check.name}: "
                        f"{check.failure_info.failure.title}"
                        + (f" ({sent.request.method} {sent.request.uri[:300]})" if sent else "")
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", "")))
        elif isinstance(event, events.EngineFinished):
            finished = event
    elapsed = time.monotonic() - started

    print(
        f"schemathesis: {sum(requests.values())} requests in {elapsed:.1f} s, "
        + ", ".join(f"{label}: {n}" for label, n in sorted(requests.items()))
    )
    assert not errors
    assert not problems, "\n".join(dict.fromkeys(problems))
    assert finished is not None and finished.stop_reason == StopReason.COMPLETED
    operations = {label for label in requests if label.startswith("GET ")}
    assert operations >= {
        "GET /api/v1/assets",
        "GET /api/v1/assets/{id}",
        "GET /api/v1/search",
        "GET /api/v1/taxonomy",
    }
