"""``StudentRuntime``: one loaded student, run on molecules by any backend, in any processes.

The engine behind :class:`molmtd.Featurizer`: inputs are cut into chunks of 256, each
chunk is parsed, standardised and featurised (:mod:`molmtd.student.molecules`), then
embedded by the chosen backend (:mod:`molmtd.student.backends`, :mod:`molmtd.student.onnx`),
in this process or a pool (:mod:`molmtd.student.pool`). Rows come back in input order, NaN
where an input was rejected (or it raises, under ``on_error="raise"``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from molmtd.backbones.batching import embed, eval_mode
from molmtd.precision import quantise_int8
from molmtd.standardize import MODES as STANDARDIZE_MODES
from molmtd.standardize import Standardize
from molmtd.student import backends
from molmtd.student.columns import column_names
from molmtd.student.files import WEIGHTS, resolve_student_path, sha256_file
from molmtd.student.loading import load_model
from molmtd.student.molecules import (
    Rejected,
    featurise_chunk,
    featurised_chunks,
    rejection_error,
    standardised_smiles,
)
from molmtd.student.pool import embedded_in_pool
from molmtd.utils import progress_bar, rdkit_quiet

# Inputs per featurisation task in the process pool, and the smallest input that starts a pool.
CHUNK = 256
MIN_POOL_ITEMS = 2 * CHUNK

ChunkRows = tuple[np.ndarray, list[tuple[int, Rejected]]]


@dataclass(frozen=True)
class RunOptions:
    """How one call runs the student; every choice resolved (no ``"auto"`` left)."""

    batch_size: int = 64
    backend: Literal["torch", "compile", "onnx"] = "torch"
    precision: Literal["float32", "bfloat16", "int8"] = "float32"
    standardize: Standardize = "none"
    on_error: Literal["raise", "nan"] = "raise"
    n_jobs: int = 1
    verbose: bool = False


class StudentRuntime:
    """A student loaded (sha256-verified) from ``model`` onto ``device``, and ways to run it.

    Parameters
    ----------
    model
        Shipped model name, ``"default"``, or a run / checkpoint / student folder.
    device
        Torch device of the forward pass.

    The weights load on first use and are not pickled (a pool process on a platform that
    cannot fork loads them again); the compiled, int8 and ONNX forms are made once each.
    """

    def __init__(self, model: str | Path = "default", device: str = "cpu") -> None:
        self.model = model
        self.device = device

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_lazy")}

    def _cached(self, key: str, make: Any) -> Any:
        """``self.__dict__[key]``, made by ``make()`` on first use (``_lazy_*``: not pickled)."""
        if key not in self.__dict__:
            self.__dict__[key] = make()
        return self.__dict__[key]

    # -- the student and its forms ---------------------------------------------------------
    @property
    def backbone(self) -> Any:
        """The loaded backbone (``.meta`` holds its card and sha256, ``.domain`` its reference)."""
        return self._cached("_lazy_backbone", lambda: load_model(self.model, device=self.device))

    @property
    def dim(self) -> int:
        """Row width: the embedding, then any teacher heads."""
        return int(self.backbone.dim)

    @property
    def column_names(self) -> list[str]:
        """One name per row column (:func:`molmtd.student.columns.column_names`)."""
        return column_names(getattr(self.backbone, "meta", None), self.dim)

    @property
    def torch_device(self) -> torch.device:
        """Where the loaded weights live."""
        return next(iter(self.backbone.parameters())).device

    def auto_precision(self) -> str:
        """What ``precision="auto"`` means for this student on this machine (measured once)."""
        return self._cached(
            "_lazy_precision", lambda: backends.auto_precision(self.backbone, self.device)
        )

    def standardize_mode(self, requested: str) -> Standardize:
        """``requested``, with ``"auto"`` resolved from the model card (else ``"none"``)."""
        if requested != "auto":
            return requested  # type: ignore[return-value]
        meta = getattr(self.backbone, "meta", None) or {}
        mode = (meta.get("card") or {}).get("standardize") or meta.get("standardize") or "none"
        if mode not in STANDARDIZE_MODES:
            raise ValueError(
                f"the model card's standardize {mode!r} is not one of {STANDARDIZE_MODES}"
            )
        return mode

    def quantised(self) -> Any:
        """The backbone with int8 dynamically quantised linear layers."""
        return self._cached("_lazy_int8", lambda: quantise_int8(self.backbone))

    def compiled(self) -> Any:
        """``torch.compile(backbone)``, compiled once, in this process."""
        return self._cached("_lazy_compiled", lambda: torch.compile(self.backbone, dynamic=True))

    def onnx_student(self) -> Any:
        """The student exported to ONNX (once per weights file) in an ONNX Runtime session."""
        from molmtd.student.onnx import cached_onnx_student

        def make() -> Any:
            # the loaded model's verified hash; an unverified folder's weights are hashed here
            sha = self.backbone.meta.get("sha256") or sha256_file(
                resolve_student_path(Path(self.model)) / WEIGHTS
            )
            cache = Path.home() / ".cache" / "molmtd" / "onnx"
            return cached_onnx_student(self.backbone, sha, cache)  # rows checked on load

        return self._cached("_lazy_onnx", make)

    def prepare(self, options: RunOptions) -> None:
        """Make the backend's form of the student now (before a pool forks)."""
        if options.backend == "onnx":
            self.onnx_student()
        elif options.precision == "int8":
            self.quantised()

    def domain_score(self, rows: np.ndarray) -> np.ndarray:
        """Domain score of each row (:mod:`molmtd.domain`); NaN without a reference."""
        reference = getattr(self.backbone, "domain", None)
        if reference is None:
            return np.full(len(rows), np.nan, dtype=np.float32)
        return reference.score(rows)

    # -- embedding -------------------------------------------------------------------------
    def embed(self, items: list[Any], options: RunOptions) -> tuple[np.ndarray, np.ndarray]:
        """Rows [N, dim] float32 in input order, and the valid mask [N].

        Raises :class:`molmtd.student.molecules.InvalidMoleculeError` for the first rejected
        input under ``on_error="raise"``; otherwise its row is NaN and its mask False.
        """
        if backends.featurises_graphs(self.backbone):
            return self._embed_graphs(items, options)
        return self._embed_smiles(items, options)

    def embed_chunk(self, chunk: list[Any], options: RunOptions) -> ChunkRows:
        """Parse, featurise and embed one chunk (what each pool process does)."""
        return self.embed_featurised(featurise_chunk(chunk, options.standardize), options)

    def embed_featurised(
        self, featurised: list[dict[str, np.ndarray] | Rejected], options: RunOptions
    ) -> ChunkRows:
        """Rows of one featurised chunk (NaN where rejected) and its rejections by offset."""
        rows = np.full((len(featurised), self.dim), np.nan, dtype=np.float32)
        graphs = [(i, g) for i, g in enumerate(featurised) if not isinstance(g, Rejected)]
        rejected = [(i, g) for i, g in enumerate(featurised) if isinstance(g, Rejected)]
        device, size = self.torch_device, int(options.batch_size)
        module = None if options.backend == "onnx" else self._module(options)
        with (
            eval_mode(self.backbone),
            torch.inference_mode(),
            backends.autocast(options.precision, device),
        ):
            for b in range(0, len(graphs), size):
                batch = graphs[b : b + size]
                if module is None:
                    rows[[row for row, _ in batch]] = self.onnx_student().run([g for _, g in batch])
                else:
                    backends.forward(module, batch, rows, device)
        return rows, rejected

    def _module(self, options: RunOptions) -> Any:
        """The torch module of the forward pass: compiled, int8-quantised or as loaded."""
        if options.backend == "compile":
            return self.compiled()
        if options.precision == "int8":
            return self.quantised()
        return self.backbone

    def _embed_graphs(self, items: list[Any], options: RunOptions) -> tuple[np.ndarray, np.ndarray]:
        """Graph students: chunks featurised and embedded here or in a pool, rows in order."""
        out = np.full((len(items), self.dim), np.nan, dtype=np.float32)
        valid = np.zeros(len(items), dtype=bool)
        n_jobs = _processes(options, len(items))
        starts = range(0, len(items), CHUNK)
        chunks = [items[s : s + CHUNK] for s in starts]
        # compiled code is made once, here, not again in every pool process of every call
        if n_jobs > 1 and self.torch_device.type == "cpu" and options.backend != "compile":
            self.prepare(options)
            embedded = embedded_in_pool(self, options, chunks, n_jobs)
        else:  # featurised by n_jobs processes, embedded here (a GPU stays in this process)
            featurised = featurised_chunks(chunks, n_jobs, options.standardize)
            embedded = contextlib.nullcontext(
                self.embed_featurised(chunk, options) for chunk in featurised
            )
        bar = progress_bar(total=len(items), desc="embed", unit="mol", disable=not options.verbose)
        with bar, embedded as results:
            for start, chunk, (rows, rejected) in zip(starts, chunks, results):
                for offset, why in rejected:
                    _reject(options, start + offset, chunk[offset], why)
                out[start : start + len(chunk)] = rows
                valid[start : start + len(chunk)] = True
                valid[[start + offset for offset, _ in rejected]] = False
                bar.update(len(chunk))
        return out, valid

    def _embed_smiles(self, items: list[Any], options: RunOptions) -> tuple[np.ndarray, np.ndarray]:
        """Students that read SMILES: standardised here, embedded by the backbone's collate."""
        parsed = standardised_smiles(items, options.standardize)
        valid = np.ones(len(items), dtype=bool)
        for i, smiles in enumerate(parsed):
            if isinstance(smiles, Rejected):
                _reject(options, i, items[i], smiles)
                valid[i] = False
        out = np.full((len(items), self.dim), np.nan, dtype=np.float32)
        idx = np.flatnonzero(valid)
        if idx.size:
            out[idx] = self._embed_valid_smiles([parsed[i] for i in idx], idx, valid, options)
        return out, valid

    def _embed_valid_smiles(
        self, smiles: list[str], positions: np.ndarray, valid: np.ndarray, options: RunOptions
    ) -> np.ndarray:
        workers = _processes(options, len(smiles)) - 1
        kwargs = dict(batch_size=int(options.batch_size), num_workers=workers)
        autocast = backends.autocast(options.precision, self.torch_device)
        try:
            with rdkit_quiet(), autocast:
                return embed(self.backbone, smiles, progress=options.verbose, **kwargs)
        except ValueError:
            pass
        # A molecule RDKit parses but the graph featuriser rejects: find it one by one.
        rows = np.full((len(smiles), self.dim), np.nan, dtype=np.float32)
        for j, smi in enumerate(smiles):
            try:
                with rdkit_quiet(), backends.autocast(options.precision, self.torch_device):
                    rows[j] = embed(self.backbone, [smi], batch_size=1)[0]
            except ValueError as err:
                why = Rejected(unparsable=False, detail=str(err))
                _reject(options, int(positions[j]), smi, why)
                valid[positions[j]] = False
        return rows


def _processes(options: RunOptions, n_items: int) -> int:
    """Processes for ``n_items`` inputs: ``options.n_jobs``, or 1 below :data:`MIN_POOL_ITEMS`."""
    return max(int(options.n_jobs), 1) if n_items >= MIN_POOL_ITEMS else 1


def _reject(options: RunOptions, index: int, item: Any, why: Rejected) -> None:
    """Raise for a rejected input under ``on_error="raise"``; its row stays NaN otherwise."""
    if options.on_error == "raise":
        raise rejection_error(index, item, why, hint=True)
