"""The Python blocks of the docs pages that promise to run, run (in order, one namespace each)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["docs/ecosystem.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page: str, capsys) -> None:
    blocks = BLOCK.findall((ROOT / page).read_text())
    assert len(blocks) >= 3
    for i, source in enumerate(blocks):
        namespace: dict = {"__name__": f"docs_block_{i}"}
        exec(compile(source, f"{page}[block {i}]", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "(4, 1241) ['CCO', 'c1ccccc1O', 'CC(=O)Nc1ccc(O)cc1', 'CCN']" in printed
    assert "DataBatch" in printed
