"""The model bundle: estimator, flattened trees, calibrator, thresholds, baselines and provenance.

A bundle directory holds ``manifest.json`` (versions, feature list, hashes, thresholds, calibration,
metrics), ``trees.npz`` (the flattened trees the fast SHAP path reads), ``estimator.pkl`` (the fitted
scikit-learn model, for evaluation and reference checks) and ``baselines.pkl``. Pickles are not
portable across library versions, so ``load`` compares the versions recorded in the manifest with the
running ones before unpickling anything, and refuses a mismatch (scikit-learn's persistence advice).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import pickle
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, overload

import numba
import numpy as np
import numpy.typing as npt
import sklearn

from models.baselines import Baselines
from models.calibration import PlattCalibrator
from models.reasons import FeatureSpecLike, Reason, top_reasons
from models.shap_fast import FastTreeShap
from models.thresholds import Thresholds
from models.trees import FlatTrees, flatten_hgb

__all__ = [
    "BundleError",
    "BundleInfo",
    "BundleMismatchError",
    "Explanation",
    "ModelBundle",
    "check_features",
    "check_manifest",
    "check_versions",
    "features_fingerprint",
    "git_commit",
    "json_safe",
    "library_versions",
    "new_info",
]

log = logging.getLogger(__name__)
_new_tuple = tuple.__new__  # builds a named tuple without its Python-level __new__

F64 = npt.NDArray[np.float64]
FORMAT = 1
MANIFEST = "manifest.json"
TREES = "trees.npz"
ESTIMATOR = "estimator.pkl"
BASELINES = "baselines.pkl"


class BundleError(Exception):
    """A bundle directory is missing, incomplete or corrupt."""


class BundleMismatchError(BundleError):
    """A bundle was made with other library versions or another feature list than the running code."""


def library_versions() -> dict[str, str]:
    """Versions a bundle depends on: pickles and the trees' meaning change with them."""
    return {
        "python": ".".join(platform.python_version_tuple()[:2]),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
    }


def features_fingerprint(specs: Sequence[FeatureSpecLike]) -> str:
    """Hash of what the trees depend on: feature names, order, dtypes and monotone directions."""
    payload = json.dumps([[s.name, s.dtype, int(s.monotone)] for s in specs])
    return hashlib.sha256(payload.encode()).hexdigest()


def git_commit() -> str:
    """The commit of the checkout the code runs from, or ``"unknown"`` outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else "unknown"


class Explanation(NamedTuple):
    """Exact SHAP explanation of rows: ``base_value + contributions.sum(1) == log_odds`` to 1e-6.

    ``risk`` is the calibrated probability; ``risk_raw = sigmoid(log_odds)`` is the trees' own.
    A named tuple (immutable, like a frozen dataclass, at half the cost to build): one is made for
    every scored shipment.
    """

    base_value: float
    contributions: F64
    log_odds: F64
    risk: F64

    @property
    def risk_raw(self) -> F64:
        """The uncalibrated probability of the trees, from the SHAP sum (no second prediction pass)."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.log_odds)))


@dataclass(frozen=True)
class BundleInfo:
    """Provenance of a bundle (all JSON-serialisable)."""

    version: str
    created_at: str
    versions: dict[str, str]
    features_hash: str
    data_hash: str
    git_commit: str
    params: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)


class ModelBundle:
    """A trained, calibrated model with its exact fast explainer; what scoring code loads."""

    def __init__(
        self,
        *,
        estimator: Any,
        calibrator: PlattCalibrator,
        specs: Sequence[FeatureSpecLike],
        thresholds: Thresholds,
        info: BundleInfo,
        baselines: Baselines | None = None,
        metrics: dict[str, Any] | None = None,
        trees: FlatTrees | None = None,
    ) -> None:
        self.estimator = estimator
        self.trees = trees if trees is not None else flatten_hgb(estimator)
        if self.trees.n_features != len(specs):
            raise BundleError(
                f"the trees expect {self.trees.n_features} features, the spec lists {len(specs)}"
            )
        self.calibrator = calibrator
        # The calibration as explain passes it: Python floats, which the explainer's one-row
        # shortcut requires (a NumPy scalar would send every call down the general path).
        self._calibration = (float(calibrator.slope), float(calibrator.intercept))
        self.specs: tuple[FeatureSpecLike, ...] = tuple(specs)
        self.thresholds = thresholds
        self.info = info
        self.baselines = baselines
        self.metrics: dict[str, Any] = dict(metrics or {})
        self.explainer = FastTreeShap(self.trees)

    # --- identity ------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """The bundle's version id (time of training and a hash of the trees and calibration)."""
        return self.info.version

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Column order of the matrices ``explain`` takes."""
        return tuple(s.name for s in self.specs)

    @property
    def action_threshold(self) -> float:
        """Risk at or above which a shipment goes to review."""
        return self.thresholds.review

    # --- scoring ---------------------------------------------------------------------------------
    def explain(self, rows: npt.ArrayLike) -> Explanation:
        """Exact SHAP contributions, log-odds and calibrated risk for ``rows`` (n, f) (NaN = missing)."""
        # One compiled pass gives contributions, log-odds and the calibrated risk (Platt scaling is
        # a sigmoid of the log-odds): no second prediction and no separate numpy pass per call.
        slope, intercept = self._calibration
        result = self.explainer.shap_values(rows, slope=slope, intercept=intercept)
        # The same four fields in the same order (risk is the calibrated probability); tuple.__new__
        # relabels them without the named tuple's Python-level __new__ (~0.4 us of a one-row call).
        return _new_tuple(Explanation, result)

    def top_reasons(
        self, contributions: npt.ArrayLike, values: npt.ArrayLike, k: int = 3
    ) -> list[list[Reason]]:
        """The ``k`` largest contributions of each row in words (largest ``|contribution|`` first)."""
        return top_reasons(contributions, values, self.specs, k=k)

    reasons = top_reasons

    @overload
    def band(self, risk: float) -> str: ...
    @overload
    def band(self, risk: npt.NDArray[Any]) -> npt.NDArray[np.str_]: ...
    def band(self, risk: float | npt.NDArray[Any]) -> str | npt.NDArray[np.str_]:
        """Band (``low|medium|high|critical``) of a risk or of an array of risks."""
        if isinstance(risk, np.ndarray):
            return self.thresholds.band(risk)
        return self.thresholds.band_of(float(risk))

    def warm(self) -> None:
        """Compile the SHAP kernels now (numba caches them on disk) so the first score is fast."""
        self.explainer.warm()

    def with_metrics(self, metrics: dict[str, Any]) -> ModelBundle:
        """A copy of this bundle carrying ``metrics`` (the evaluation report)."""
        return ModelBundle(
            estimator=self.estimator,
            calibrator=self.calibrator,
            specs=self.specs,
            thresholds=self.thresholds,
            info=self.info,
            baselines=self.baselines,
            metrics=metrics,
            trees=self.trees,
        )

    def describe(self) -> dict[str, Any]:
        """What ``GET /v1/model`` shows: version, training date, features, metrics, thresholds, importance."""
        importance = self.metrics.get("global", {}).get("mean_abs_shap", {})
        return {
            "version": self.version,
            "created_at": self.info.created_at,
            "features": [
                {"name": s.name, "description": s.description, "monotone": int(s.monotone), "group": s.group}
                for s in self.specs
            ],
            "metrics": {k: v for k, v in self.metrics.items() if k != "global"},
            "thresholds": self.thresholds.to_dict(),
            "global_importance": importance,
            "versions": self.info.versions,
            "data_hash": self.info.data_hash,
            "git_commit": self.info.git_commit,
        }

    # --- persistence -----------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """The JSON manifest written by ``save``."""
        return {
            "format": FORMAT,
            "version": self.info.version,
            "created_at": self.info.created_at,
            "versions": self.info.versions,
            "features_hash": self.info.features_hash,
            "features": [
                {"name": s.name, "dtype": s.dtype, "group": s.group, "monotone": int(s.monotone)}
                for s in self.specs
            ],
            "data_hash": self.info.data_hash,
            "git_commit": self.info.git_commit,
            "params": self.info.params,
            "split": self.info.split,
            "calibrator": self.calibrator.to_dict(),
            "thresholds": self.thresholds.to_dict(),
            "base_value": self.explainer.base_value,
            "metrics": self.metrics,
        }

    def save(self, directory: str | Path) -> Path:
        """Write the bundle into ``directory`` (created if needed); returns the directory."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.trees.save(out / TREES)
        with (out / ESTIMATOR).open("wb") as fh:
            pickle.dump(self.estimator, fh, protocol=pickle.HIGHEST_PROTOCOL)
        with (out / BASELINES).open("wb") as fh:
            pickle.dump(self.baselines, fh, protocol=pickle.HIGHEST_PROTOCOL)
        # The manifest last: a directory with a manifest is a complete bundle.
        (out / MANIFEST).write_text(json.dumps(json_safe(self.manifest()), indent=2) + "\n")
        log.info("model bundle %s saved to %s", self.version, out)
        return out

    @classmethod
    def load(
        cls, directory: str | Path, *, specs: Sequence[FeatureSpecLike] | None = None, warm: bool = True
    ) -> ModelBundle:
        """Load a bundle, refusing one made with other library versions or another feature list.

        ``specs`` defaults to ``features.spec.FEATURES`` (the running code's feature list).
        Raises ``BundleError`` for a missing or incomplete directory and ``BundleMismatchError`` for a
        version or feature mismatch, naming what differs.
        """
        path = Path(directory)
        specs = _or_running(specs)
        manifest = check_manifest(path, specs=specs)
        for name in (TREES, ESTIMATOR, BASELINES):
            if not (path / name).is_file():
                raise BundleError(
                    f"bundle {path} is incomplete: {name} is missing; retrain with `catchall train`"
                )
        # Versions match (checked above), so the pickles are the ones this code wrote.
        with (path / ESTIMATOR).open("rb") as fh:
            estimator = pickle.load(fh)
        with (path / BASELINES).open("rb") as fh:
            baselines = pickle.load(fh)
        trees = FlatTrees.load(path / TREES)
        reference = flatten_hgb(estimator)
        if trees.n_nodes != reference.n_nodes or not np.array_equal(trees.value, reference.value):
            raise BundleError(
                f"bundle {path}: trees.npz does not match estimator.pkl; retrain with `catchall train`"
            )
        info = BundleInfo(
            version=manifest["version"],
            created_at=manifest["created_at"],
            versions=manifest["versions"],
            features_hash=manifest["features_hash"],
            data_hash=manifest["data_hash"],
            git_commit=manifest["git_commit"],
            params=manifest.get("params", {}),
            split=manifest.get("split", {}),
        )
        bundle = cls(
            estimator=estimator,
            calibrator=PlattCalibrator.from_dict(manifest["calibrator"]),
            specs=specs,
            thresholds=Thresholds.from_dict(manifest["thresholds"]),
            info=info,
            baselines=baselines,
            metrics=manifest.get("metrics", {}),
            trees=trees,
        )
        if warm:
            bundle.warm()
        return bundle


def new_info(
    *,
    specs: Sequence[FeatureSpecLike],
    trees: FlatTrees,
    data_hash: str,
    params: dict[str, Any],
    split: dict[str, Any],
    extra: Sequence[Any] = (),
) -> BundleInfo:
    """Provenance for a freshly trained bundle; the version id hashes the trees and ``extra``."""
    now = datetime.now(UTC)
    digest = hashlib.sha256()
    for arr in trees.to_arrays().values():
        digest.update(np.ascontiguousarray(arr).tobytes())
    digest.update(json.dumps([repr(x) for x in extra]).encode())
    return BundleInfo(
        version=f"{now:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:8]}",
        created_at=now.isoformat(timespec="seconds"),
        versions=library_versions(),
        features_hash=features_fingerprint(specs),
        data_hash=data_hash,
        git_commit=git_commit(),
        params=params,
        split=split,
    )


def check_manifest(
    directory: str | Path, *, specs: Sequence[FeatureSpecLike] | None = None
) -> dict[str, Any]:
    """The manifest of the bundle at ``directory`` once it is known to fit the running code.

    The cheap half of :meth:`ModelBundle.load` (nothing unpickled): raises ``BundleError`` for a missing
    or unreadable manifest and ``BundleMismatchError`` for another format, library versions or feature
    list (``specs``, default ``features.spec.FEATURES``), naming what differs.
    """
    path = Path(directory)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"no model bundle at {path} (no {MANIFEST}): train one with `catchall train`")
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{manifest_path} is not valid JSON ({exc}): retrain with `catchall train`"
        ) from exc
    if manifest.get("format") != FORMAT:
        raise BundleMismatchError(
            f"bundle format {manifest.get('format')!r} at {path}, this code reads format {FORMAT}: "
            "retrain with `catchall train`"
        )
    check_versions(manifest.get("versions", {}), where=path)
    check_features(manifest, _or_running(specs), where=path)
    return manifest


def _or_running(specs: Sequence[FeatureSpecLike] | None) -> Sequence[FeatureSpecLike]:
    """``specs``, or the running code's feature list (``features.spec.FEATURES``) when None."""
    if specs is not None:
        return specs
    from features.spec import FEATURES

    return FEATURES


def check_versions(recorded: dict[str, str], *, where: Path | str) -> None:
    """Raise ``BundleMismatchError`` naming every library whose version differs from the running one."""
    running = library_versions()
    diffs = [
        f"{lib} {recorded.get(lib, 'unrecorded')} (running {version})"
        for lib, version in running.items()
        if recorded.get(lib) != version
    ]
    if diffs:
        raise BundleMismatchError(
            f"model bundle {where} was built with other library versions: {', '.join(diffs)}; "
            "retrain with `catchall train` (or install the versions it was built with)"
        )


def check_features(manifest: dict[str, Any], specs: Sequence[FeatureSpecLike], *, where: Path | str) -> None:
    """Raise ``BundleMismatchError`` when the bundle's feature list differs from ``specs``."""
    if manifest.get("features_hash") == features_fingerprint(specs):
        return
    stored = [(f["name"], f["dtype"], int(f["monotone"])) for f in manifest.get("features", [])]
    current = [(s.name, s.dtype, int(s.monotone)) for s in specs]
    stored_names = {s[0] for s in stored}
    current_names = {s[0] for s in current}
    details = []
    if missing := sorted(stored_names - current_names):
        details.append(f"features gone from the code: {', '.join(missing)}")
    if added := sorted(current_names - stored_names):
        details.append(f"features new in the code: {', '.join(added)}")
    if not details:
        changed = [c[0] for c, s in zip(current, stored, strict=False) if c != s]
        details.append(f"order, dtype or monotone direction changed ({', '.join(changed) or 'order'})")
    raise BundleMismatchError(
        f"model bundle {where} was trained on another feature list: {'; '.join(details)}; "
        "retrain with `catchall train`"
    )


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN/inf as ``None`` (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
