"""Hand-made v1 shipments for the rescore tests (test data, not a model of the world)."""

from __future__ import annotations

import random
from typing import Any

__all__ = ["sample_payloads"]

_COUNTRIES = ["DE", "CN", "HK", "AE", "TR", "RU", "US", "KZ", "AM", "FR"]


def _party(rng: random.Random, role: str, n: int) -> dict[str, Any]:
    party: dict[str, Any] = {"name": f"{role.title()} Trading {n} Ltd", "country": rng.choice(_COUNTRIES)}
    if rng.random() < 0.7:
        party["address"] = f"{n} Harbour Road, Unit {rng.randint(1, 99)}"
    if rng.random() < 0.5:
        party["phone"] = f"+852 {rng.randint(20000000, 99999999)}"
    if rng.random() < 0.3:
        party["business_type"] = rng.choice(["distributor", "trading_company", "manufacturer"])
    if rng.random() < 0.2:
        party["incorporated_on"] = f"20{rng.randint(10, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    return party


def sample_payloads(n: int, *, seed: int = 7, prefix: str = "S") -> list[dict[str, Any]]:
    """``n`` valid, varied v1 shipment payloads (JSON-ready)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        payload: dict[str, Any] = {
            "shipment_id": f"{prefix}-{i:07d}",
            "declared_at": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z",
            "exporter": _party(rng, "exporter", i),
            "consignee": _party(rng, "consignee", i),
            "destination_country": rng.choice(_COUNTRIES),
            "items": [
                {
                    "hs_code": rng.choice(["854231", "8542310000", "847130", "903020"]),
                    "description": "integrated circuits",
                    "quantity": float(rng.randint(1, 500)),
                    "unit": "pcs",
                    "value": float(rng.randint(0, 90000)),
                    **({"currency": rng.choice(["EUR", "USD", "CNY"])} if rng.random() < 0.5 else {}),
                    **({"control_code": "3A001"} if rng.random() < 0.2 else {}),
                }
                for _ in range(rng.randint(1, 3))
            ],
        }
        if rng.random() < 0.6:
            payload["end_user"] = _party(rng, "end_user", i)
        if rng.random() < 0.3:
            payload["intermediaries"] = [
                {**_party(rng, "forwarder", i), "role": "freight_forwarder"} for _ in range(rng.randint(1, 2))
            ]
        if rng.random() < 0.4:
            payload["route"] = rng.sample(_COUNTRIES, 2)
        if rng.random() < 0.5:
            payload["payment"] = {"method": rng.choice(["wire", "cash"]), "payer_name": "Payer Co"}
        if rng.random() < 0.5:
            payload["incoterm"] = rng.choice(["EXW", "FCA", "DAP"])
        if rng.random() < 0.5:
            payload["declared_end_use"] = "industrial automation"
        if rng.random() < 0.2:
            payload["end_use_certificate"] = True
        if rng.random() < 0.1:
            payload["observed_flags"] = ["BIS-07"]
        out.append(payload)
    return out
