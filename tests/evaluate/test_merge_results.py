"""benchmarks/merge_results.py: joining per-writer result CSVs."""

from __future__ import annotations

import pandas as pd
import pytest
from script_loader import load_script


def _merge():
    return load_script("benchmarks/tools/merge_results.py").merge


def _rows(task: str, scores: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"suite": "s", "task": task, "rep": "ecfp", "head": "mlp", "seed": [1, 2], "score": scores}
    )


def test_merge_keeps_order_drops_repeats_and_refuses_conflicts():
    merge = _merge()
    a, b = _rows("A", [0.1, 0.2]), _rows("B", [0.3, 0.4])
    out = merge([a, b, a])  # an identical repeat is kept once
    assert out["task"].tolist() == ["A", "A", "B", "B"]
    with pytest.raises(ValueError, match="conflicting scores"):
        merge([a, _rows("A", [0.1, 0.25])])
