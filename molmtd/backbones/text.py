"""Hugging Face text-encoder students (``"hf-text"``).

The encoder comes from a local checkpoint directory (``pretrained``: weights and config) or
from a config dict (``model_config``, e.g. a tiny ``BertConfig`` built in a test; random
init). The tokenizer always comes from a local directory (``tokenizer``; defaults to
``pretrained``). No network access: everything is loaded with ``local_files_only``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from molmtd.backbones.base import register_backbone
from molmtd.backbones.hf import hf_encoder, model_config_dict


class TextCollator:
    """Picklable ``collate``: list of strings -> tokenizer output (dict of tensors).

    The tokenizer is loaded lazily in the process that uses it (DataLoader workers).
    """

    def __init__(self, tokenizer: str, max_length: int = 128) -> None:
        self.tokenizer_path = str(tokenizer)
        self.max_length = int(max_length)
        self._tokenizer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "tokenizer_path": self.tokenizer_path,
            "max_length": self.max_length,
            "_tokenizer": None,
        }

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(
                self.tokenizer_path, local_files_only=True
            )
        return self._tokenizer

    def __call__(self, items: Sequence[str]) -> dict[str, Tensor]:
        if isinstance(items, str):
            raise TypeError("collate expects a sequence of strings, got a single string")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ValueError(f"item {i} is not a string: {type(item).__name__}")
        enc = self.tokenizer(
            list(items),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return dict(enc)


@register_backbone("hf-text")
class HFTextBackbone(nn.Module):
    """Transformer encoder + pooling (+ optional linear projection) over tokenised text.

    Parameters
    ----------
    tokenizer
        Local tokenizer directory (default: ``pretrained``).
    pretrained
        Local Hugging Face checkpoint directory (``AutoModel.from_pretrained``).
    model_config
        Config dict (``{"model_type": "bert", "hidden_size": 64, ...}``) for a randomly
        initialised encoder. Exactly one of ``pretrained`` / ``model_config`` is needed;
        :attr:`config` records the resolved ``model_config`` so that rebuilding from a
        checkpoint needs no pretrained weights.
    pooling
        ``"cls"`` (first token) or ``"mean"`` (attention-masked mean of token states).
    dim
        Output width; None keeps the encoder's hidden size (no projection).
    max_length
        Truncation length of the tokenizer.
    """

    def __init__(
        self,
        tokenizer: str | None = None,
        pretrained: str | None = None,
        model_config: dict[str, Any] | None = None,
        pooling: str = "mean",
        dim: int | None = None,
        max_length: int = 128,
    ) -> None:
        super().__init__()
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', got {pooling!r}")
        if (pretrained is None) == (model_config is None):
            raise ValueError(
                "give exactly one of `pretrained` (a local path) or `model_config` (a dict)"
            )
        tokenizer = tokenizer or pretrained
        if tokenizer is None:
            raise ValueError("a local `tokenizer` directory is required with `model_config`")
        self.encoder = hf_encoder(pretrained, model_config, "bert")
        hidden = int(self.encoder.config.hidden_size)
        self.proj = nn.Linear(hidden, dim) if dim is not None else nn.Identity()
        self.dim = int(dim) if dim is not None else hidden
        self.pooling = pooling
        self.collator = TextCollator(tokenizer, max_length)
        self._config = {
            "name": "hf-text",
            "tokenizer": str(tokenizer),
            "model_config": model_config_dict(self.encoder.config),
            "pooling": pooling,
            "dim": None if dim is None else int(dim),
            "max_length": int(max_length),
        }

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def collate(self, items: Sequence[str]) -> dict[str, Tensor]:
        """Tokenise a list of strings (padding, truncation to ``max_length``)."""
        return self.collator(items)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Pooled (and projected) encoder states: Tensor [B, dim]."""
        out = self.encoder(**batch).last_hidden_state
        if self.pooling == "cls":
            pooled = out[:, 0]
        else:
            mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        return self.proj(pooled)

    def embed(self, items: Sequence[str], batch_size: int = 64, **kwargs: Any) -> Any:
        """Embed texts (see :func:`molmtd.backbones.batching.embed`)."""
        from molmtd.backbones.batching import embed

        return embed(self, items, batch_size=batch_size, **kwargs)
