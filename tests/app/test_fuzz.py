"""Issue 13, zero 500s: schemathesis fuzzes every operation of the real server's OpenAPI
document (`/openapi.json` of a uvicorn process), with a bounded number of examples per
operation. No answer may be a server error (5xx), and every answer must conform to the
document: a status it declares, the content type it declares, a body matching its schema.

Operations on one session get a real session's id (a made-up id would only ever meet the
404 path); a DELETE that removed it is followed by a fresh session."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from app.config import Settings
from app.main import create_app
from tests.conftest import running_server

EXAMPLES = 25  # per operation: 13 operations, the whole module well under a minute
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def server():
    # The rate limits raised: the fuzzer's requests should reach the routes (its 429s are
    # documented, and tests/app/test_limits.py tests them).
    with running_server({"NNPLAY_CHANGES_BURST": "1000000",
                         "NNPLAY_SESSIONS_BURST": "1000000"}) as url:
        yield url


@pytest.fixture(scope="module")
def session(server):
    """A session's id for the operations that take one; a new one after a DELETE."""
    box = {}

    def current(fresh: bool = False) -> str:
        if fresh or "id" not in box:
            r = httpx.post(f"{server}/api/sessions", timeout=60)
            assert r.status_code == 201, r.text
            box["id"] = r.json()["id"]
        return box["id"]

    return current


# The document the server serves (checked below), built in this process: schemathesis's
# lazy loader (`from_fixture`) does not run under pytest 9.
DOCUMENT = create_app(Settings(store="memory://")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_fuzzed_document_is_the_one_the_server_serves(server):
    assert httpx.get(f"{server}/openapi.json", timeout=60).json() == DOCUMENT


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_operation_answers_a_server_error_or_off_its_document(case, server, session):
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = session()
    response = case.call(base_url=server, timeout=60)
    case.validate_response(response, checks=CHECKS)
    if case.method.upper() == "DELETE" and response.status_code == 204:
        session(fresh=True)
