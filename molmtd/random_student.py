"""Randomly initialised students: the architecture control of every benchmark.

``random_featurizer(config)`` embeds with a student of ``config``'s architecture whose weights
were never trained (``random-student:CONFIG`` in :mod:`molmtd.evaluate.representations`),
so a table can show what distillation adds beyond the architecture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molmtd.featurizer import Featurizer
from molmtd.utils import write_json


def save_random_student(
    backbone_config: dict[str, Any], out_dir: str | Path, seed: int = 0
) -> Path:
    """Export a randomly initialised student (the architecture control) in the student format."""

    import torch
    from safetensors.torch import save_file

    from molmtd.backbones import build_backbone

    torch.manual_seed(seed)
    backbone = build_backbone(dict(backbone_config))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {f"backbone.{k}": v.detach().contiguous() for k, v in backbone.state_dict().items()}
    save_file(tensors, str(out / "model.safetensors"))
    meta = {"backbone": backbone.config, "random_init": True, "seed": seed}
    write_json(out / "meta.json", meta)
    from molmtd.student.files import CARD_FILE, sha256_file

    card = {"name": f"random-init (seed {seed})", "random_init": True, "seed": seed,
            "sha256": sha256_file(out / "model.safetensors"),
            "meta_sha256": sha256_file(out / "meta.json")}  # fmt: skip
    write_json(out / CARD_FILE, card)  # last and atomic: its presence marks a complete cache
    return out


def random_featurizer(config: str | None = None, seed: int = 0, **kwargs: Any) -> Featurizer:
    """A :class:`Featurizer` over a randomly initialised student of a given architecture.

    Parameters
    ----------
    config
        A trained student (path or shipped model name) whose architecture to copy, a training
        config (YAML path or name under ``molmtd/configs``), or None for the default model.
    seed
        Initialisation seed.
    """
    import json

    import yaml

    from molmtd.training.config import resolve_config_path
    from molmtd.utils import config_hash

    spec = config or "default"
    path = Path(spec)
    yaml_path = None
    if config is not None and not path.is_dir():
        try:
            yaml_path = resolve_config_path(spec)
        except FileNotFoundError:
            pass
    if yaml_path is not None:
        backbone_config = yaml.safe_load(yaml_path.read_text())["backbone"]
    else:
        from molmtd.student.files import resolve_student_path
        from molmtd.student.shipped import model_dir

        if not path.exists():
            path = model_dir(spec)
        meta = json.loads((resolve_student_path(path) / "meta.json").read_text())
        backbone_config = meta["backbone"]
    key = config_hash({"backbone": backbone_config, "seed": seed})
    out = Path.home() / ".cache" / "molmtd" / "random_students" / key
    card = out / "card.json"
    # caches from before cards (or before cards covered meta.json): rewritten, same weights
    if not card.is_file() or "meta_sha256" not in json.loads(card.read_text()):
        save_random_student(backbone_config, out, seed=seed)
    return Featurizer(model=out, on_error="nan", **kwargs)
