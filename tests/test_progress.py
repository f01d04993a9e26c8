"""``molmtd.utils.progress_bar``: no IProgress warning when ipywidgets is missing."""

from __future__ import annotations

import sys
import warnings

import tqdm.std

from molmtd.utils import progress_bar


def test_text_bar_without_ipywidgets(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import now raises ImportError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar = progress_bar(total=2, disable=True)
    assert type(bar) is tqdm.std.tqdm
    bar.close()
