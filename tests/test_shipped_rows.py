"""The shipped students' rows on RDKit's NCI sample are those recorded before the redesign.

``tests/fixtures/shipped_rows.{json,npz}`` were written by ``tools/record_shipped_rows.py``
from the code as it stood before the package layout changed (commit 6109ce6). On a CPU with
the same instruction-set flags the rows must be bit-identical (sha256 of all 4,999 molecules'
float32 rows); on another CPU, float32 kernels may sum in another order, so the kept rows are
compared to 1e-5.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
TOOL = Path(__file__).parents[1] / "tools" / "record_shipped_rows.py"
RECORD = json.loads((FIXTURES / "shipped_rows.json").read_text())
MODELS = sorted(k for k in RECORD if k not in ("options", "isa", "n_molecules"))


def _tool():
    spec = importlib.util.spec_from_file_location("record_shipped_rows", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize("model", MODELS)
def test_shipped_rows_are_unchanged(model: str) -> None:
    tool = _tool()
    smiles = tool.nci_smiles()
    assert len(smiles) == RECORD["n_molecules"]
    rows = tool.rows_of(model, smiles)
    kept = np.load(FIXTURES / "shipped_rows.npz")[model]
    np.testing.assert_allclose(rows[: len(kept)], kept, rtol=1e-5, atol=1e-5, equal_nan=True)
    if tool.isa() != RECORD["isa"]:
        pytest.skip(f"CPU flags {tool.isa()} differ from the recording's {RECORD['isa']}: "
                    "rows compared to 1e-5 only")  # fmt: skip
    assert tool.digest(rows) == RECORD[model], f"{model}: rows differ from the recorded ones"
