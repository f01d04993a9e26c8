"""Shared by the trainer tests and the subprocesses they launch (resume, torchrun).

Teachers are real: RDKit MACCS keys (167 bits) and eight RDKit 2D descriptors computed on
the first molecules of RDKit's NCI sample.

Run as a script: ``python molmtd_train_helpers.py OUT [--resume] [--steps N] [--batch B]``
(``torchrun --nproc_per_node 2 molmtd_train_helpers.py ...`` for DDP).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

import numpy as np

DESCRIPTORS = (
    "MolWt",
    "MolLogP",
    "TPSA",
    "NumHDonors",
    "NumHAcceptors",
    "RingCount",
    "NumRotatableBonds",
    "FractionCSP3",
)


@functools.lru_cache(maxsize=4)
def nci_targets(n: int = 300) -> tuple[list[str], dict[str, np.ndarray]]:
    from rdkit import Chem
    from rdkit.Chem import Descriptors, MACCSkeys

    from molmtd.data.paths import package_file

    lines = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().splitlines()
    smiles, mols = [], []
    for line in lines:
        smi = line.split()[0]
        mol = Chem.MolFromSmiles(smi)
        if mol is not None and mol.GetNumAtoms() > 1:
            smiles.append(smi)
            mols.append(mol)
        if len(smiles) == n:
            break
    maccs = np.array([list(MACCSkeys.GenMACCSKeys(m)) for m in mols], dtype=np.float32)
    desc = np.array(
        [[getattr(Descriptors, d)(m) for d in DESCRIPTORS] for m in mols], dtype=np.float32
    )
    return smiles, {"maccs": maccs, "desc": desc}


def source(n: int = 300):
    from molmtd.training import ArrayTargets

    smiles, targets = nci_targets(n)
    return ArrayTargets(
        smiles,
        targets,
        teacher_info={
            "maccs": {"config_hash": "rdkit-maccs"},
            "desc": {"config_hash": "rdkit-desc8"},
        },
        name="nci-first-300",
    )


def small_config(**overrides):
    from molmtd.training import TrainConfig

    base = {
        "backbone": {
            "name": "gine",
            "dim": 32,
            "hidden": 32,
            "num_layers": 2,
            "mlp_ratio": 1.0,
            "norm": "layer",
        },
        "loss": "nll",
        "loss_kwargs": {"hidden": 64, "n_layers": 2},
        "epochs": 100,
        "batch_size": 16,
        "lr": 3e-3,
        "val_fraction": 0.15,
        "log_every": 5,
        "progress": False,
        "eval_at_start": False,
        "patience": None,
        "seed": 0,
        "device": "cpu",
    }
    base.update(overrides)
    return TrainConfig.from_dict(base)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--eval-every", type=int, default=20)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument(
        "--die-after-checkpoints",
        type=int,
        default=0,
        help="SIGKILL this process right after its Nth checkpoint is saved (a kill at a known "
        "point, whatever the machine's load)",
    )
    args = parser.parse_args(argv)
    import torch

    if args.die_after_checkpoints:
        import signal

        from molmtd.training import checkpoint

        original, saved = checkpoint.CheckpointManager.save, [0]

        def save_then_die(self, *a, **k):
            out = original(self, *a, **k)
            saved[0] += 1
            if saved[0] == args.die_after_checkpoints:
                os.kill(os.getpid(), signal.SIGKILL)
            return out

        checkpoint.CheckpointManager.save = save_then_die

    torch.set_num_threads(1)
    from molmtd.training import Distiller

    cfg = small_config(
        max_steps=args.steps,
        batch_size=args.batch,
        checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
    )
    cfg.backbone["dropout"] = args.dropout
    Distiller(cfg, source(), args.out).fit(resume=args.resume)
    if os.environ.get("RANK", "0") == "0":
        print("finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
