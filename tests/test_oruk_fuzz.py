"""Fuzzing the Open Referral UK API with the standard's own OpenAPI document.

A neighbouring directory, or an ORUK validator, reads our /api/oruk/ through the standard's
openapi.json (../shared/openreferral-uk/schema/openapi.json), not through ours. So schemathesis
reads that document, pointed at /api/oruk/ of our app (through WSGI, no server), and sends
every operation a bounded, seeded set of requests (the examples, boundary values and random
ones). Two checks: no answer is a server error, and every answer the document describes (a
200) matches the standard's schema for it. A 400 for a page number of 0 or a 404 for an id we
do not hold is right, and the standard's document lists no such statuses, so only those two
checks apply. (Our own /api/openapi.json, with whatever /api/oruk/ paths it describes, is run
with every check by tests/test_api_schema.py.)

The standard's document points its schemas at raw.githubusercontent.com; they are read from
the local copy instead (no network), with its non-JSON-Schema keys dropped; and its start_time
and end_time parameters say `type: time`, which OpenAPI does not have, so they are read as
strings in the `time` format.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")

from schemathesis.config import CacheConfig, SchemathesisConfig  # noqa: E402
from schemathesis.engine import StopReason, events, from_schema  # noqa: E402

from assetmap import create_app  # noqa: E402
from tests.conftest import SAMPLE, save_raw  # noqa: E402
from tests.engines import copy_database, new_target  # noqa: E402
from tests.hostile import corpus, hostile_assets  # noqa: E402
from tests.test_openreferral import _clean  # noqa: E402

STANDARD = Path(__file__).resolve().parents[2] / "shared" / "openreferral-uk" / "schema"
EXAMPLES_PER_OPERATION = 12
SEED = 20261206
CHECKS = ["not_a_server_error", "response_schema_conformance"]


def _schema_file(name: str) -> Path:
    """The standard's schema of this name: compiled (self-contained) where there is one."""
    compiled = STANDARD / "compiled" / name
    return compiled if compiled.exists() else STANDARD / name


def standard_document(service_ids: list[str] = ()) -> dict:
    """The standard's openapi.json with every schema it refers to by file (remote or beside it)
    placed in components and referred to there; served from /api/oruk. `service_ids` become
    examples of /services/{id}'s id, so that full services are fetched, not only 404s."""
    document = json.loads((STANDARD / "openapi.json").read_text(encoding="utf-8"))
    schemas: dict = {}
    waiting: list[str] = []

    def local(node):
        if isinstance(node, dict):
            if node.get("type") == "time":  # the standard's own slip: OpenAPI has no type time
                node = {**node, "type": "string", "format": "time"}
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#") and ref.endswith(".json"):
                name = ref.rsplit("/", 1)[-1]
                key = "oruk_" + name.removesuffix(".json")
                if key not in schemas and name not in waiting:
                    waiting.append(name)
                return {**node, "$ref": f"#/components/schemas/{key}"}
            return {k: local(v) for k, v in node.items()}
        if isinstance(node, list):
            return [local(v) for v in node]
        return node

    document = local(document)
    document["components"].setdefault("schemas", {})
    while waiting:
        name = waiting.pop()
        schema = _clean(json.loads(_schema_file(name).read_text(encoding="utf-8")))
        schemas["oruk_" + name.removesuffix(".json")] = local(schema)
    document["components"]["schemas"].update(schemas)
    document["servers"] = [{"url": "/api/oruk"}]
    for parameter in document["paths"]["/services/{id}"]["parameters"]:
        if parameter["name"] == "id" and service_ids:
            parameter["examples"] = {f"s{n}": {"value": v} for n, v in enumerate(service_ids)}
    return document


@pytest.fixture(scope="module")
def oruk_app(tmp_path_factory, sample_template):
    """The sample assets plus one asset per hostile string (in every text field a service
    carries), so that what is published from them is fuzzed too."""
    db_path = new_target(tmp_path_factory.mktemp("oruk-fuzz"), keep=True)
    copy_database(sample_template, db_path)
    save_raw(db_path, hostile_assets())
    return create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})


def _service_ids() -> list[str]:
    """Every hostile asset's service, and one of the sample's."""
    from assetmap.openreferral.mapping import service_id

    return [service_id(f"hostile-{n}") for n in range(len(corpus()))] + [
        service_id(SAMPLE[0]["id"])
    ]


def _config() -> SchemathesisConfig:
    config = SchemathesisConfig(cache=CacheConfig(enabled=False))
    config.update(seed=SEED, max_failures=None)
    # Ask for answers plain: schemathesis' WSGI transport never undoes a compression (see
    # tests/test_api_schema.py).
    config.projects.override.update(headers={"Accept-Encoding": "identity"})
    config.projects.override.checks.update(included_check_names=CHECKS)
    config.projects.override.phases.update(phases=["examples", "coverage", "fuzzing"])
    config.projects.override.generation.update(
        max_examples=EXAMPLES_PER_OPERATION, deterministic=True, database="none"
    )
    return config


def run(schema) -> tuple[list[str], list[str], Counter[str], Counter[int], object]:
    """Run schemathesis: (failed checks, engine errors, requests per operation, statuses
    seen, the engine's finish)."""
    problems, errors = [], []
    requests: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    finished = None
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            requests[recorder.label] += len(recorder.cases)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    sent = recorder.interactions.get(case_id)
                    problems.append(
                        f"{recorder.label}: {check.name}: {check.failure_info.failure.title}"
                        + (f" ({sent.request.method} {sent.request.uri[:300]})" if sent else "")
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", "")))
        elif isinstance(event, events.EngineFinished):
            finished = event
    return problems, errors, requests, statuses, finished


def test_the_standards_openapi_document_finds_no_server_error_and_no_answer_off_schema(oruk_app):
    schema = schemathesis.openapi.from_dict(standard_document(_service_ids()), config=_config())
    schema.app = oruk_app
    started = time.monotonic()
    problems, errors, requests, statuses, finished = run(schema)
    elapsed = time.monotonic() - started
    print(
        f"schemathesis (ORUK): {sum(requests.values())} requests in {elapsed:.1f} s, "
        f"statuses {dict(statuses)}, "
        + ", ".join(f"{label}: {n}" for label, n in sorted(requests.items()))
    )
    assert not errors
    assert not problems, "\n".join(dict.fromkeys(problems))
    assert finished is not None and finished.stop_reason == StopReason.COMPLETED
    # The run did reach the services we publish and saw them answer (not only 404s).
    assert {"GET /services", "GET /services/{id}"} <= set(requests)
    assert statuses[200] > len(_service_ids())


def test_the_fuzzing_check_fails_for_an_answer_off_the_standards_schema(oruk_app, monkeypatch):
    """The check can fail: the same run against services with a status the standard lacks."""
    from assetmap.openreferral import mapping

    original = mapping.to_service

    def broken(asset, *args, **kwargs):
        return {**original(asset, *args, **kwargs), "status": "open"}  # not one of the four

    monkeypatch.setattr(mapping, "to_service", broken)
    schema = schemathesis.openapi.from_dict(standard_document(), config=_config())
    schema.app = oruk_app
    problems, _, _, _, _ = run(schema.include(path="/services"))
    assert any("response_schema_conformance" in p for p in problems)
