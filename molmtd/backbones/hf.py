"""Hugging Face encoders for the text and vision backbones: built offline, configs recorded."""

from __future__ import annotations

from typing import Any


def hf_encoder(
    pretrained: str | None, model_config: dict[str, Any] | None, example_type: str
) -> Any:
    """A ``transformers`` encoder from a local checkpoint or from a config dict (random init).

    Parameters
    ----------
    pretrained
        Local checkpoint directory (``AutoModel.from_pretrained``, no network).
    model_config
        ``AutoConfig.for_model`` arguments with a ``model_type``.
    example_type
        A model type named in the error for a config without one (``"bert"``, ``"vit"``).
    """
    from transformers import AutoConfig, AutoModel

    if (pretrained is None) == (model_config is None):
        raise ValueError("give exactly one of `pretrained` (a local path) or `model_config` (a dict)")
    if pretrained is not None:
        return AutoModel.from_pretrained(pretrained, local_files_only=True)
    cfg = dict(model_config or {})
    model_type = cfg.pop("model_type", None)
    if model_type is None:
        raise ValueError(f"model_config needs a 'model_type' (e.g. '{example_type}')")
    return AutoModel.from_config(AutoConfig.for_model(model_type, **cfg))


def model_config_dict(config: Any) -> dict[str, Any]:
    """JSON-friendly diff of a HF config against its class defaults, with ``model_type``."""
    data = config.to_diff_dict()
    for key in ("architectures", "transformers_version", "_name_or_path", "torch_dtype", "dtype"):
        data.pop(key, None)
    data["model_type"] = config.model_type
    return data
