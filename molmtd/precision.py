"""Reduced-precision copies of a student for the Featurizer's ``precision="int8"``."""

from __future__ import annotations

from typing import Any

__all__ = ["quantise_int8"]


def quantise_int8(backbone: Any) -> Any:
    """A copy of ``backbone`` (in eval mode) whose ``Linear`` layers are quantised to int8.

    ``quantize_dynamic`` copies the module and leaves ``backbone`` as it was.
    """
    import warnings

    import torch

    with warnings.catch_warnings():  # torch.ao.quantization is deprecated, not yet replaced
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(
            backbone, {torch.nn.Linear}, dtype=torch.qint8
        )
