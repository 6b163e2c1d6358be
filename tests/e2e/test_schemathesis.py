"""Property-based API tests from /openapi.json against a real server: no 5xx and no status the route
does not document (bounded: 20 examples per operation).

The operations are driven through Hypothesis directly (``operation.as_strategy()``) rather than the
schemathesis pytest plugin, whose lazy fixture loader does not work with this pytest version.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from tests.service.server import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

# What the web pages and metrics serve is not JSON API; everything else is fuzzed.
_SKIP = ("/metrics",)


def test_no_server_error_and_only_documented_statuses(live_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {live_server.keys['root']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = []
    for operation in operations:
        if operation.path in _SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=live_server.url,
                headers=headers,
                checks=[not_a_server_error, status_code_conformance],
            )

        run()
        fuzzed.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /v1/score" in fuzzed
    assert "POST /v1/cases/{case_id}/decision" in fuzzed
