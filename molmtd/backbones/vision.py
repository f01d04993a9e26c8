"""Vision students: a small CNN (``"cnn"``) and Hugging Face vision encoders (``"hf-vision"``).

Items are images as arrays ``[H, W]`` (grayscale) or ``[C, H, W]``; ``collate`` stacks them
into a float tensor ``[B, C, H, W]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from molmtd.backbones.base import register_backbone
from molmtd.backbones.hf import hf_encoder, model_config_dict


class ImageCollator:
    """Picklable ``collate``: list of ``[H, W]`` / ``[C, H, W]`` arrays -> float ``[B, C, H, W]``.

    Parameters
    ----------
    in_channels
        Expected channel count (2-D items get a channel axis when it is 1).
    scale
        Multiplier applied to the pixel values (e.g. ``1/16`` for sklearn digits).
    """

    def __init__(self, in_channels: int = 1, scale: float = 1.0) -> None:
        self.in_channels = int(in_channels)
        self.scale = float(scale)

    def __call__(self, items: Sequence[Any]) -> Tensor:
        if len(items) == 0:
            raise ValueError("cannot collate an empty batch")
        arrays = []
        for i, item in enumerate(items):
            a = np.asarray(item, dtype=np.float32)
            if a.ndim == 2:
                a = a[None]
            if a.ndim != 3 or a.shape[0] != self.in_channels:
                raise ValueError(
                    f"image {i} has shape {np.shape(item)}; expected [H, W] or "
                    f"[{self.in_channels}, H, W]"
                )
            if not np.isfinite(a).all():
                raise ValueError(f"image {i} has non-finite pixel values")
            arrays.append(a)
        try:
            out = np.stack(arrays)
        except ValueError as err:
            raise ValueError(f"images in a batch must share one shape: {err}") from err
        return torch.from_numpy(out * self.scale)


@register_backbone("cnn")
class SmallCNN(nn.Module):
    """Conv(3x3)-GroupNorm-ReLU blocks, 2x2 max-pool between stages, global average pool.

    Parameters
    ----------
    dim
        Output width.
    in_channels
        Image channels.
    channels
        Width of each stage (one 3x3 conv per stage; pooling after every stage but the last).
    scale
        Pixel scaling applied by ``collate``.
    """

    def __init__(
        self,
        dim: int = 64,
        in_channels: int = 1,
        channels: Sequence[int] = (32, 64),
        scale: float = 1.0,
    ) -> None:
        super().__init__()
        if not channels:
            raise ValueError("channels must name at least one stage")
        layers: list[nn.Module] = []
        width = in_channels
        for i, ch in enumerate(channels):
            layers += [nn.Conv2d(width, ch, 3, padding=1), nn.GroupNorm(min(8, ch), ch), nn.ReLU()]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            width = ch
        self.features = nn.Sequential(*layers)
        self.proj = nn.Linear(width, dim)
        self.dim = int(dim)
        self.collator = ImageCollator(in_channels, scale)
        self._config = {
            "name": "cnn",
            "dim": int(dim),
            "in_channels": int(in_channels),
            "channels": [int(c) for c in channels],
            "scale": float(scale),
        }

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def collate(self, items: Sequence[Any]) -> Tensor:
        return self.collator(items)

    def forward(self, batch: Tensor) -> Tensor:
        return self.proj(self.features(batch).mean(dim=(2, 3)))

    def embed(self, items: Sequence[Any], batch_size: int = 256, **kwargs: Any) -> Any:
        from molmtd.backbones.batching import embed

        return embed(self, items, batch_size=batch_size, **kwargs)


@register_backbone("hf-vision")
class HFVisionBackbone(nn.Module):
    """A Hugging Face vision encoder (ViT, ConvNeXt, ...) + pooling + optional projection.

    Parameters
    ----------
    pretrained
        Local checkpoint directory (``AutoModel.from_pretrained``, no network).
    model_config
        Config dict with ``model_type`` (random init), e.g. a tiny ``ViTConfig``.
    pooling
        ``"cls"`` (first token of ``last_hidden_state``), ``"mean"`` (mean over tokens or
        spatial positions) or ``"pooler"`` (the model's ``pooler_output``).
    dim
        Output width; None keeps the encoder's width.
    in_channels, scale
        Passed to the image collator.
    """

    def __init__(
        self,
        pretrained: str | None = None,
        model_config: dict[str, Any] | None = None,
        pooling: str = "mean",
        dim: int | None = None,
        in_channels: int = 3,
        scale: float = 1.0,
    ) -> None:
        super().__init__()
        if pooling not in ("cls", "mean", "pooler"):
            raise ValueError(f"pooling must be 'cls', 'mean' or 'pooler', got {pooling!r}")
        self.encoder = hf_encoder(pretrained, model_config, "vit")
        ecfg = self.encoder.config
        hidden = getattr(ecfg, "hidden_size", None) or ecfg.hidden_sizes[-1]
        self.proj = nn.Linear(hidden, dim) if dim is not None else nn.Identity()
        self.dim = int(dim) if dim is not None else int(hidden)
        self.pooling = pooling
        self.collator = ImageCollator(in_channels, scale)
        self._config = {
            "name": "hf-vision",
            "model_config": model_config_dict(ecfg),
            "pooling": pooling,
            "dim": None if dim is None else int(dim),
            "in_channels": int(in_channels),
            "scale": float(scale),
        }

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def collate(self, items: Sequence[Any]) -> Tensor:
        return self.collator(items)

    def forward(self, batch: Tensor) -> Tensor:
        out = self.encoder(pixel_values=batch)
        if self.pooling == "pooler":
            pooled = out.pooler_output
            if pooled is None:
                raise ValueError("this model has no pooler_output; use pooling='mean' or 'cls'")
            pooled = pooled.flatten(1)
        else:
            h = out.last_hidden_state
            if h.ndim == 4:  # convolutional encoders: [B, C, H, W]
                pooled = h.mean(dim=(2, 3)) if self.pooling == "mean" else h[:, :, 0, 0]
            else:
                pooled = h[:, 0] if self.pooling == "cls" else h.mean(dim=1)
        return self.proj(pooled)

    def embed(self, items: Sequence[Any], batch_size: int = 64, **kwargs: Any) -> Any:
        from molmtd.backbones.batching import embed

        return embed(self, items, batch_size=batch_size, **kwargs)
