"""``--compare PREVIOUS``: which shipments changed OUTCOME (action) since a previous rescore output.

Raw score movements are not reported: a licensing team cares about shipments that now need review,
are now held, or are now cleared. The changed shipments are written beside the output
(``OUTPUT.changes.parquet`` or ``.csv``) with their previous and current action, band and risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from service.rescore.output import TableWriter, output_format, read_outcomes

__all__ = ["Comparison", "changes_path", "compare_outputs"]


@dataclass
class Comparison:
    """Outcome changes between two runs."""

    transitions: dict[str, int] = field(default_factory=dict)  # "clear->review": n, only changed ones
    unchanged: int = 0
    new: int = 0  # shipments not in the previous output
    missing: int = 0  # shipments of the previous output not rescored now
    changes_file: Path | None = None

    @property
    def changed(self) -> int:
        """Shipments whose action changed."""
        return sum(self.transitions.values())

    def summary(self) -> str:
        """One line: the transitions, then unchanged/new/missing counts."""
        moves = ", ".join(f"{k} {v}" for k, v in sorted(self.transitions.items())) or "none"
        return (
            f"outcome changes: {moves}; unchanged {self.unchanged}, new {self.new}, "
            f"not rescored {self.missing}"
        )


def changes_path(output: Path) -> Path:
    """Where the changed shipments of ``output`` are written."""
    return output.with_name(f"{output.stem}.changes{output.suffix}")


def compare_outputs(previous: Path, current: Path) -> Comparison:
    """Compare two rescore outputs by shipment and write the changed shipments file."""
    before = read_outcomes(previous).to_pandas().drop_duplicates("shipment_id", keep="last")
    after = read_outcomes(current).to_pandas().drop_duplicates("shipment_id", keep="last")
    merged = after.merge(before, on="shipment_id", how="outer", suffixes=("", "_previous"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    moved = both[both["action"] != both["action_previous"]]
    result = Comparison(
        unchanged=len(both) - len(moved),
        new=int((merged["_merge"] == "left_only").sum()),
        missing=int((merged["_merge"] == "right_only").sum()),
    )
    counts = moved.groupby(["action_previous", "action"]).size()
    result.transitions = {
        f"{a}->{b}": int(n) for (a, b), n in zip(counts.index, counts.to_numpy(), strict=True)
    }
    changes = moved[
        ["shipment_id", "action_previous", "action", "band_previous", "band", "risk_previous", "risk"]
    ].rename(columns={"action_previous": "previous_action", "band_previous": "previous_band"})
    changes = changes.rename(columns={"risk_previous": "previous_risk"}).sort_values("shipment_id")
    table = pa.Table.from_pandas(changes, preserve_index=False)
    path = changes_path(current)
    TableWriter(path, table.schema, output_format(current)).write_all([table])
    result.changes_file = path
    return result
