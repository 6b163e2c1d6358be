"""``POST /v1/score`` answers with the bytes FastAPI would make of the route's ``ScoreResponse``.

The route serialises its response itself (``score_json``) instead of letting FastAPI validate the model
again in a worker thread; the body must not change. Also the cheap paths of one-shipment scoring: a
scored shipment's contributions and values as ``float`` of each item, and the graph context's numeric
columns read once by the pipeline equal to the lookup answer's own columns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi import Response
from fastapi.routing import APIRoute, serialize_response
from fastapi.testclient import TestClient
from sqlmodel import Session

from features.columns import shipments_to_table
from features.schema import Shipment
from service.api.app import create_app
from service.api.routes import scoring as routes
from service.api.routes.scoring import router, score_json
from service.api.schemas import ScoreResponse
from service.auth import create_key
from service.db import get_engine
from service.scored import plain_value
from service.scoring import Scorer
from service.settings import Settings
from tests.fixtures_world import SmallWorld
from tests.service.factories import shipment_payload

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def scorer(small_world: SmallWorld) -> Scorer:
    """A scorer of its own: scores here feed its graph."""
    return small_world.scorer(Settings())


@pytest.fixture
def api(database_url: str, tmp_path: Path, scorer: Scorer) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(home=tmp_path, database_url=database_url)
    with Session(get_engine(database_url)) as session:
        _, token = create_key(session=session, name="bot", role="scorer")
        session.commit()
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def _fastapi_bytes(model: ScoreResponse) -> bytes:
    # What FastAPI makes of a route returning ``model`` with ``response_model=ScoreResponse``.
    (route,) = [r for r in router.routes if isinstance(r, APIRoute) and r.path == "/v1/score"]

    def run() -> object:
        # In a thread of its own: the test client may have an event loop running in this one.
        return asyncio.run(
            serialize_response(field=route.response_field, response_content=model, dump_json=True)
        )

    with ThreadPoolExecutor(1) as pool:
        content = pool.submit(run).result()
    assert isinstance(content, bytes)
    return content


def test_score_body_is_fastapi_serialisation(
    api: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, key = api
    returned: list[ScoreResponse] = []

    def capture(body: ScoreResponse) -> Response:
        returned.append(body)
        return score_json(body)

    monkeypatch.setattr(routes, "score_json", capture)
    bodies = [
        shipment_payload("BYTES-1"),
        shipment_payload("BYTES-2", declared_end_use="for military radar guidance"),
        shipment_payload("BYTES-1"),  # a replay: the stored score
    ]
    for body in bodies:
        r = client.post("/v1/score", json=body, headers=key)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.content == _fastapi_bytes(returned[-1])
    assert len(returned) == len(bodies)
    schema = client.get("/openapi.json").json()["paths"]["/v1/score"]["post"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ScoreResponse"}


def test_one_shipment_reads_equal_the_slow_ones(small_scorer: Scorer) -> None:
    shipments = [Shipment.model_validate(shipment_payload(f"READ-{i}")) for i in range(3)]
    batch = small_scorer.score_table(shipments_to_table(shipments))
    fb = small_scorer._features(shipments_to_table(shipments), None)
    for i in range(len(batch)):
        one = batch.shipment(i)
        names = batch.feature_names
        assert one.contributions == {n: float(c) for n, c in zip(names, batch.contributions[i], strict=True)}
        slow = {n: plain_value(v) for n, v in zip(names, batch.values[i], strict=True)}
        assert list(one.values) == list(slow)
        for n, v in one.values.items():
            assert (v is None and slow[n] is None) or (type(v) is float and v == slow[n]), n
    numeric = list(fb.evidence.lookup_numbers)
    assert numeric  # hops, counts, scores: every numeric answer column
    cols = fb.party_columns(numeric)
    for name in numeric:
        column = fb.evidence.lookup[name]
        assert column.dtype.kind in "biuf"
        expected = column.to_numpy()
        assert cols[name].dtype == expected.dtype
        np.testing.assert_array_equal(cols[name], expected)


def test_a_replay_answers_the_first_body_with_its_time_zone(api: tuple[TestClient, dict[str, str]]) -> None:
    client, key = api
    first = client.post("/v1/score", json=shipment_payload("BYTES-TZ"), headers=key)
    again = client.post("/v1/score", json=shipment_payload("BYTES-TZ"), headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json()["scored_at"].endswith("Z")  # read back from the database: still UTC, still aware
    assert again.content == first.content
