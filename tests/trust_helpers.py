"""Shared by the trust tests: a small random student folder and real molecules."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from molmtd.backbones import build_backbone

SMALL = {"name": "gine", "dim": 32, "hidden": 32, "num_layers": 2}


def save_student(folder: Path, card: bool = True, seed: int = 0, **card_fields) -> Path:
    """A randomly initialised small GINE in the exported-student format, maybe with a card."""
    from molmtd.models import sha256_file

    torch.manual_seed(seed)
    backbone = build_backbone(dict(SMALL))
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"backbone.{k}": v.contiguous() for k, v in backbone.state_dict().items()}
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "meta.json").write_text(json.dumps({"backbone": backbone.config}))
    if card:
        record = {
            "name": folder.name,
            "sha256": sha256_file(folder / "model.safetensors"),
            "meta_sha256": sha256_file(folder / "meta.json"),
        }
        (folder / "card.json").write_text(json.dumps({**record, **card_fields}))
    return folder


def real_smiles(n: int = 300) -> list[str]:
    """The first ``n`` parseable molecules of RDKit's NCI sample (ships with RDKit)."""
    from rdkit import Chem, RDConfig

    path = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    out = []
    for line in path.read_text().splitlines():
        smi = line.split()[0] if line.strip() else ""
        if smi and Chem.MolFromSmiles(smi) is not None:
            out.append(smi)
        if len(out) == n:
            break
    return out
