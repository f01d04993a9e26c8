"""A packed training set: featurised graphs and float16 teacher targets in one ``.npz``.

For training where RDKit is missing or a store is too large to move (a lent GPU machine
with torch and PyG only, 64 MiB carried each way): :func:`pack_targets` writes the graphs
of some store rows (already featurised, so no RDKit is needed to read them) and their
targets (float16; the stores hold standardised, clipped values) into one compressed file;
:class:`PackedTargets` reads it back as a :class:`molmtd.training.data.TargetSource` whose
items are graph dicts, which :class:`molmtd.backbones.features.GraphCollator` batches as
they are.

>>> pack_targets(StoreTargets("stores/zinc200k"), np.arange(30_000), "pack.npz")  # doctest: +SKIP
>>> Distiller(config, PackedTargets("pack.npz"), "runs/packed").fit()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "molmtd-packed/1"


def pack_targets(
    source: Any, indices: Sequence[int] | np.ndarray, path: str | Path, graphs: Any = None
) -> Path:
    """Write rows ``indices`` of ``source`` (graphs and targets) to ``path`` atomically.

    Parameters
    ----------
    source
        A target source (e.g. :class:`molmtd.training.data.StoreTargets`).
    indices
        Its rows to pack, in the order they are written.
    path
        The ``.npz`` to write.
    graphs
        Featurise function item -> graph dict (default: OGB features of a SMILES string,
        :func:`molmtd.backbones.features.smiles_to_graph`, which needs RDKit).
    """
    if graphs is None:
        from molmtd.backbones.features import smiles_to_graph

        graphs = smiles_to_graph
    indices = np.asarray(indices, dtype=np.int64)
    featurised = [graphs(item) for item in source.items(indices)]
    targets, masks = source.get(indices)
    arrays: dict[str, np.ndarray] = {
        "atom_counts": np.array([g["x"].shape[0] for g in featurised], dtype=np.int32),
        "edge_counts": np.array([g["edge_index"].shape[1] for g in featurised], dtype=np.int32),
        "x": np.concatenate([g["x"] for g in featurised]).astype(np.uint8),
        "edge_index": np.concatenate([g["edge_index"] for g in featurised], axis=1).astype(
            np.int16
        ),
        "edge_attr": np.concatenate([g["edge_attr"] for g in featurised]).astype(np.uint8),
    }
    for name in source.teacher_dims:
        if np.abs(np.nan_to_num(targets[name])).max(initial=0.0) > 6e4:
            raise ValueError(f"teacher {name!r}: targets beyond float16's range")
        arrays[f"target/{name}"] = targets[name].astype(np.float16)
        arrays[f"mask/{name}"] = masks[name].astype(bool)
    meta = {
        "format": FORMAT,
        "teacher_info": source.teacher_info,
        "source": source.describe(),
        "rows": [int(indices[0]), int(indices[-1])] if len(indices) else [],
        "n_rows": len(indices),
    }
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True, default=str))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class PackedTargets:
    """The :class:`molmtd.training.data.TargetSource` of a file written by :func:`pack_targets`.

    Items are graph dicts (``x``, ``edge_index``, ``edge_attr``); targets come back float32.
    ``teachers`` keeps a subset of the packed teachers (default: all).
    """

    def __init__(self, path: str | Path, teachers: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        with np.load(self.path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{self.path}: not a {FORMAT} file (format {meta.get('format')!r})")
            arrays = {k: data[k] for k in data.files if k != "meta"}
        self.meta = meta
        atoms, edges = arrays["atom_counts"].astype(np.int64), arrays["edge_counts"].astype(np.int64)
        self._atom_offsets = np.concatenate([[0], np.cumsum(atoms)])
        self._edge_offsets = np.concatenate([[0], np.cumsum(edges)])
        self._x, self._edge_attr = arrays["x"], arrays["edge_attr"]
        self._edge_index = arrays["edge_index"]
        names = [k.removeprefix("target/") for k in arrays if k.startswith("target/")]
        if teachers is not None:
            unknown = sorted(set(teachers) - set(names))
            if unknown:
                raise KeyError(f"{self.path}: teachers {unknown} are not packed; it has {names}")
            names = list(teachers)
        self._targets = {k: arrays[f"target/{k}"] for k in names}
        self._masks = {k: arrays[f"mask/{k}"] for k in names}
        self.teacher_dims = {k: int(v.shape[1]) for k, v in self._targets.items()}
        self.teacher_info = {k: dict(meta["teacher_info"][k]) for k in names}

    def __len__(self) -> int:
        return len(self._atom_offsets) - 1

    def graph(self, i: int) -> dict[str, np.ndarray]:
        """Row ``i``'s graph (the dtypes of :func:`molmtd.backbones.features.mol_to_graph`)."""
        a0, a1 = self._atom_offsets[i], self._atom_offsets[i + 1]
        e0, e1 = self._edge_offsets[i], self._edge_offsets[i + 1]
        return {
            "x": self._x[a0:a1],
            "edge_index": self._edge_index[:, e0:e1].astype(np.int32),
            "edge_attr": self._edge_attr[e0:e1],
        }

    def items(self, indices: np.ndarray) -> list[Any]:
        return [self.graph(int(i)) for i in indices]

    def get(self, indices: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        indices = np.asarray(indices, dtype=np.int64)
        return (
            {k: t[indices].astype(np.float32) for k, t in self._targets.items()},
            {k: m[indices] for k, m in self._masks.items()},
        )

    def describe(self) -> dict[str, Any]:
        return {"source": "packed", "path": str(self.path), "n_rows": len(self),
                "packed_from": self.meta.get("source")}  # fmt: skip
