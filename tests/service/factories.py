"""Small builders for service tests: a valid shipment payload and a ScoredBatch with chosen outcomes."""

from __future__ import annotations

from typing import Any

import numpy as np

from service.scored import ScoredBatch

FEATURES = ("f_screen", "f_hops", "f_value")


def shipment_payload(shipment_id: str = "EXP-1", **overrides: Any) -> dict[str, Any]:
    """A valid v1 shipment body (3 parties, 2 items)."""
    body: dict[str, Any] = {
        "shipment_id": shipment_id,
        "declared_at": "2026-11-20T10:00:00Z",
        "exporter": {"name": "Acme Components GmbH", "country": "DE", "business_type": "manufacturer"},
        "consignee": {
            "name": "Golden Bridge Trading Ltd",
            "country": "HK",
            "business_type": "trading_company",
        },
        "end_user": {"name": "Northern Instruments LLC", "country": "KZ", "business_type": "manufacturer"},
        "items": [
            {
                "hs_code": "854231",
                "description": "microcontrollers",
                "quantity": 500,
                "unit": "pcs",
                "value": 9000,
            },
            {
                "hs_code": "851762",
                "description": "network switches",
                "quantity": 10,
                "unit": "pcs",
                "value": 4000,
            },
        ],
        "destination_country": "KZ",
        "route": ["HK"],
        "declared_end_use": "industrial automation",
    }
    body.update(overrides)
    return body


def scored_batch(
    ids: list[str], actions: list[str], risks: list[float] | None = None, audit: list[bool] | None = None
) -> ScoredBatch:
    """A ScoredBatch with the given actions; contributions add up to the log-odds exactly."""
    n = len(ids)
    risk = np.array(risks if risks is not None else [0.5] * n, dtype=np.float64)
    log_odds = np.log(risk / (1 - risk))
    base = -3.0
    contrib = np.zeros((n, len(FEATURES)))
    contrib[:, 0] = (log_odds - base) * 0.7
    contrib[:, 1] = (log_odds - base) * 0.2
    contrib[:, 2] = (log_odds - base) * 0.1
    values = np.tile(np.array([0.95, 1.0, np.nan]), (n, 1))
    reasons = [
        [
            {"feature": f, "label": f"{f} is notable", "value": None, "contribution": float(c)}
            for f, c in zip(FEATURES, row, strict=False)
        ]
        for row in contrib
    ]
    return ScoredBatch(
        shipment_ids=ids,
        feature_names=FEATURES,
        values=values,
        contributions=contrib,
        base_value=base,
        log_odds=log_odds,
        risk=risk,
        band=["high" if r > 0.3 else "low" for r in risk],
        action=actions,
        audit=np.array(audit if audit is not None else [False] * n),
        rules=[[{"code": "SCREEN-MATCH", "label": "match"}] if a == "hold" else [] for a in actions],
        reasons=reasons,
        red_flags=[[] for _ in ids],
        screening=[[] for _ in ids],
        graph=[{"paths": []} for _ in ids],
        model_version="test-model",
        data_version="test-data",
    )
