"""A tiny synthetic feature world for model tests: feature specs, rows, labels, schemes and times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Spec:
    """A stand-in with the shape of ``features.spec.FeatureSpec``."""

    name: str
    dtype: str
    group: str
    monotone: int
    description: str
    reason: str

    def reason_for(self, value: float, contribution: float) -> str:
        if value != value:
            return f"{self.description}: not known"
        return self.reason.format(value=value)


SPECS: tuple[Spec, ...] = (
    Spec("best_screen_score", "float", "graph", 1, "Best screening score", "Screening match {value:.2f}"),
    Spec("hub_transits", "int", "transaction", 1, "Hub transits", "{value:.0f} hub transits"),
    Spec("price_ratio", "float", "item", -1, "Price ratio", "Priced at {value:.2f} of reference"),
    Spec("value_usd", "float", "transaction", 0, "Value", "Worth USD {value:,.0f}"),
    Spec("tier", "int", "item", 1, "CHPL tier rank", "Tier rank {value:.0f}"),
    Spec("noise_a", "float", "party", 0, "Noise A", "Noise A {value:.2f}"),
    Spec("noise_b", "float", "party", 0, "Noise B", "Noise B {value:.2f}"),
    Spec("n_flags", "int", "red_flag", 1, "Red flags", "{value:.0f} red flags"),
)

SIGNALS: dict[str, frozenset[str]] = {
    "listed": frozenset({"best_screen_score"}),
    "shell": frozenset({"hub_transits", "n_flags"}),
    "undervalued": frozenset({"price_ratio"}),
}


def make_world(
    n: int = 6000, seed: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], list[str | None], npt.NDArray[np.datetime64]]:
    """Rows in ``SPECS`` order with NaNs, labels (~4 % positive) from three planted schemes."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(SPECS)))
    X[:, 0] = rng.beta(1, 12, n)
    X[:, 1] = rng.poisson(0.3, n)
    X[:, 2] = rng.lognormal(0, 0.3, n)
    X[:, 3] = rng.lognormal(9, 1, n)
    X[:, 4] = rng.integers(0, 7, n)
    X[:, 5] = rng.normal(size=n)
    X[:, 6] = rng.normal(size=n)
    X[:, 7] = rng.poisson(0.5, n)
    scheme = rng.choice(4, size=n, p=[0.96, 0.015, 0.015, 0.01])
    X[scheme == 1, 0] = rng.uniform(0.8, 1.0, (scheme == 1).sum())
    X[scheme == 2, 1] += rng.integers(1, 4, (scheme == 2).sum())
    X[scheme == 2, 7] += 2
    X[scheme == 3, 2] = rng.uniform(0.05, 0.4, (scheme == 3).sum())
    # Partial observability and missing values.
    X[rng.random((n, len(SPECS))) < 0.05] = np.nan
    y = (scheme > 0).astype(np.int8)
    names = [None, "listed", "shell", "undervalued"]
    schemes = [names[s] for s in scheme]
    start = np.datetime64("2024-01-01T00:00:00", "us")
    times = start + np.sort(rng.integers(0, 365 * 24 * 3600, n)).astype("timedelta64[s]")
    return X, y, schemes, times
