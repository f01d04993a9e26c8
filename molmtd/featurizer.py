"""``Featurizer``: SMILES or RDKit molecules to molmtd embeddings, a scikit-learn transformer.

>>> from molmtd import Featurizer
>>> X = Featurizer().transform(["CCO", "c1ccccc1O"])  # doctest: +SKIP

The transformer is stateless (``fit`` only validates), so it drops into
``sklearn.pipeline.Pipeline`` and ``GridSearchCV``. Weights load lazily on first use and are
not pickled with the object.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from molmtd.errors import UserError
from molmtd.molecule_input import (  # InvalidMoleculeError: part of this module's API
    InvalidMoleculeError,  # noqa: F401
    _as_list,
    _featurise_chunk,
    _featurised_iter,
    _Rejected,
    rejection_error,
)
from molmtd.precision import quantise_int8
from molmtd.standardize import MODES as STANDARDIZE_MODES
from molmtd.standardize import Standardize, standardize_mol
from molmtd.utils import parse_mol, rdkit_quiet

OnError = Literal["raise", "nan"]
Precision = Literal["auto", "float32", "bfloat16", "int8"]
Backend = Literal["torch", "compile", "onnx"]
StandardizeOption = Literal["auto", "none", "largest_fragment", "parent"]

# Inputs per featurisation task in the process pool, and the smallest input that starts a pool.
_CHUNK = 256
_MIN_POOL_ITEMS = 2 * _CHUNK

# precision="auto": bfloat16 only where the CPU multiplies it natively and these molecules'
# rows stay this close to float32 (relative L2; the shipped model's worst row over 2,000
# MOSES molecules is 0.005, see benchmarks/results/bfloat16_rows.csv).
_AUTO_CHECK_SMILES = (
    "CCO",
    "c1ccccc1O",
    "CC(=O)Nc1ccc(O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "O=C(O)c1ccccc1OC(C)=O",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "C[NH+](C)CCC(c1ccccc1)c1ccccn1",
    "O=S(=O)(N)c1cc(C(=O)O)c(NCc2ccco2)cc1Cl",
    "FC(F)(F)c1ccc(Oc2ccccc2)cc1",
    "C/C=C/C(=O)[O-]",
    "BrCCBr",
)
_AUTO_MAX_RELATIVE_L2 = 0.02


class InvalidParameterError(UserError, ValueError):
    """A Featurizer parameter that cannot work (names the parameter and its value)."""


def _check_device(device: str) -> None:
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as err:
        raise InvalidParameterError(f"device {device!r} is not a torch device ({err})") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(f"device {device!r}: this machine has no CUDA GPU")
    if kind not in ("cpu", "cuda", "mps"):
        raise InvalidParameterError(f"device {device!r}: use cpu, cuda[:N] or mps")


class Featurizer(TransformerMixin, BaseEstimator):
    """Embed molecules with a trained molmtd student.

    Parameters
    ----------
    model
        ``"default"`` (the shipped default model), the name of another shipped model (see
        :func:`molmtd.list_models`), or the path of a training run / checkpoint / exported
        student folder. Weights are checked against the sha256 in the folder's
        ``card.json`` (:func:`molmtd.models.load_model`); a folder without one loads with an
        ``UnverifiedModelWarning``.
    device
        Torch device for the forward pass (``"cpu"``, ``"cuda"``, ...).
    batch_size
        Molecules per forward pass. The default, 64, keeps a batch's node and edge states
        (a few MB) in a CPU core's cache; on the CPU it embeds about 1.5x faster than 256,
        with the same output. On a GPU, larger batches are faster.
    n_jobs
        Processes. For graph students on the CPU, ``n_jobs`` processes (for inputs of at
        least 512 molecules) each parse, featurise and embed chunks of 256 molecules with
        one torch thread, so set it to the number of cores, or ``"auto"``: one process per
        core that is idle when the call starts (:func:`molmtd.cpu.auto_threads`). With one
        process the forward pass uses ``num_threads`` threads. On a GPU, and with ``backend="compile"``
        (compiled once, in this process), ``n_jobs`` processes parse and featurise the
        molecules, taking turns with the forward pass in this process. Other
        students featurise in ``n_jobs - 1`` DataLoader workers.
    precision
        ``"auto"`` (default): ``"bfloat16"`` on a CPU with AVX512-BF16 or AMX where a
        dozen reference molecules' rows stay within 2% (relative L2) of float32, else
        ``"float32"`` (always on GPUs); the choice is :attr:`precision_`.
        ``"float32"``: the model's own numbers. ``"bfloat16"``: the forward pass
        under ``torch.autocast`` in bfloat16 and float32 output; on CPUs with AVX512-BF16
        or AMX about 1.5x faster end to end, with rows within about 0.5% of float32
        (relative L2 error; cosine similarity above 0.9999). Without such instructions it
        can be slower: measure before you switch. ``"int8"``: the linear layers
        dynamically quantised to int8 (``torch.ao.quantization.quantize_dynamic``; CPU and
        ``backend="torch"`` only); lossy (rows about 3% from float32, relative L2) and
        about 1.2x faster on one AVX2 thread; ``"auto"`` never picks it (docs/speed.md has
        its TDC validation check).
    backend
        ``"torch"`` (default); ``"compile"``: the forward pass through ``torch.compile``
        (inductor, dynamic shapes; the same rows within 1e-6, about 1.5x faster on one
        thread, after about 30 s of compiling per process: for large inputs);
        ``"onnx"``: the forward pass by ONNX Runtime (float32, one
        thread per process) on the student exported once to ``~/.cache/molmtd/onnx`` (GINE
        students; needs the ``onnx`` extra). See ``docs/speed.md`` for when it is faster.
    on_error
        ``"raise"``: an invalid molecule raises :class:`InvalidMoleculeError` naming its index
        and SMILES. ``"nan"``: its row is NaN and ``valid_mask_`` marks it False; the output
        always has one row per input, in input order.
    standardize
        What to do to each molecule before embedding (:mod:`molmtd.standardize`):
        ``"none"``, ``"largest_fragment"`` (drop counterions and solvents) or ``"parent"``
        (largest fragment, then neutralised). ``"auto"`` (default): what the model was
        trained with, from its model card (``"none"`` for the shipped models and for models
        whose card does not say).
    verbose
        Show a progress bar.
    num_threads
        Torch threads of the forward pass in this process: ``"auto"`` (default) one per
        core idle when the call starts (all usable cores on an idle machine, one on a
        loaded one: more threads than free cores stall at every OpenMP barrier, several
        times slower); an integer; or None for torch's current setting. Restored after
        each call.

    Attributes
    ----------
    valid_mask_ : ndarray of bool [N]
        After :meth:`transform`: True where the molecule was embedded.
    n_features_out_ : int
        Embedding width.
    precision_ : str
        The precision the forward pass runs in: ``precision``, or what ``"auto"`` chose.
    domain_score_ : ndarray of float32 [N]
        After :meth:`transform`: how far each molecule lies from the student's pre-training
        corpus (:mod:`molmtd.domain`; about 1 is typical of it, larger is further out). NaN
        for invalid rows and for models that ship no ``domain.safetensors``.
    provenance_ : dict
        What produced the rows: model name, weights sha256 (None if unverified), molmtd /
        RDKit / torch / NumPy versions, precision and standardisation.
    """

    def __init__(
        self,
        model: str | Path = "default",
        device: str = "cpu",
        batch_size: int = 64,
        n_jobs: int | Literal["auto"] = 1,
        on_error: OnError = "raise",
        precision: Precision = "auto",
        standardize: StandardizeOption = "auto",
        verbose: bool = False,
        backend: Backend = "torch",
        num_threads: int | Literal["auto"] | None = "auto",
    ) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.on_error = on_error
        self.precision = precision
        self.standardize = standardize
        self.verbose = verbose
        self.backend = backend
        self.num_threads = num_threads

    # -- model loading -------------------------------------------------------------------
    def _backbone(self) -> Any:
        cached = self.__dict__.get("_lazy_backbone")
        if cached is not None and self.__dict__.get("_lazy_key") == (str(self.model), self.device):
            return cached
        from molmtd.models import load_model

        backbone = load_model(self.model, device=self.device)  # sha256-verified
        self.__dict__["_lazy_backbone"] = backbone
        self.__dict__["_lazy_key"] = (str(self.model), self.device)
        return backbone

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_lazy")}

    @property
    def n_features_out_(self) -> int:
        return int(self._backbone().dim)

    # -- precision="auto" ----------------------------------------------------------------
    @property
    def precision_(self) -> str:
        """``precision``, or for ``"auto"`` the precision chosen for this CPU and model."""
        if self.backend == "onnx":
            return "float32"
        if self.precision != "auto":
            return str(self.precision)
        key = (str(self.model), self.device)
        cached = self.__dict__.get("_lazy_precision")
        if cached is None or cached[0] != key:
            cached = (key, self._auto_precision())
            self.__dict__["_lazy_precision"] = cached
        return cached[1]

    def _auto_precision(self) -> str:
        """bfloat16 if the CPU has bfloat16 instructions and the rows check passes."""
        import torch

        from molmtd.cpu import has_fast_bfloat16

        if torch.device(self.device).type != "cpu" or not has_fast_bfloat16():
            return "float32"
        error = bfloat16_relative_error(self._backbone(), _AUTO_CHECK_SMILES)
        return "bfloat16" if float(error.max()) <= _AUTO_MAX_RELATIVE_L2 else "float32"

    # -- scikit-learn API ----------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> Featurizer:
        """Stateless: checks parameters and returns self."""
        return self.check_params()

    def check_params(self) -> Featurizer:
        """Raise :class:`InvalidParameterError` (one line) for a parameter that cannot work."""
        for name, allowed in (
            ("on_error", OnError),
            ("precision", Precision),
            ("backend", Backend),
            ("standardize", StandardizeOption),
        ):
            value = getattr(self, name)
            if value not in get_args(allowed):
                options = " or ".join(repr(a) for a in get_args(allowed))
                raise InvalidParameterError(f"{name} must be {options}, got {value!r}")
        for name, auto in (("batch_size", False), ("n_jobs", True), ("num_threads", True)):
            value = getattr(self, name)
            if (auto and value == "auto") or (name == "num_threads" and value is None):
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                also = ' or "auto"' if auto else ""
                raise InvalidParameterError(f"{name} must be an integer >= 1{also}, got {value!r}")
        if self.backend == "onnx" and self.precision in ("bfloat16", "int8"):
            raise InvalidParameterError(
                f"backend='onnx' runs in float32, not precision={self.precision!r}: "
                "use precision='auto' or 'float32'"
            )
        if self.precision == "int8" and (
            self.backend != "torch" or not str(self.device).startswith("cpu")
        ):
            raise InvalidParameterError(
                "precision='int8' runs on device='cpu' with backend='torch' only"
            )
        _check_device(str(self.device))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed molecules: float32 array [N, d], row i for input i.

        ``X``: a list, tuple, 1-D array or pandas Series/single-column DataFrame of SMILES
        strings or RDKit ``Mol`` objects.
        """
        self.fit(X)
        items = _as_list(X)
        backbone = self._backbone()
        with _torch_threads(self._threads(len(items))):
            return self._transform(items, backbone)

    def _threads(self, n_items: int) -> int | None:
        """Torch threads for this call (None: leave torch's setting); resolves "auto" once."""
        from molmtd.cpu import auto_threads

        wanted = {"num_threads": self.num_threads, "n_jobs": self.n_jobs}
        measured = self.__dict__.get("_lazy_idle_at", (-1e9, 1))
        if "auto" in wanted.values() and n_items and time.monotonic() - measured[0] > 10:
            measured = (time.monotonic(), auto_threads())  # a 0.1 s look, reused for 10 s
            self.__dict__["_lazy_idle_at"] = measured
        self.__dict__["_lazy_idle"] = measured[1]
        if self.num_threads == "auto":
            return measured[1]
        return None if self.num_threads is None else int(self.num_threads)

    def _n_jobs(self, n_items: int) -> int:
        if n_items < _MIN_POOL_ITEMS:
            return 1
        return int(self.__dict__.get("_lazy_idle", 1) if self.n_jobs == "auto" else self.n_jobs)

    def _transform(self, items: list[Any], backbone: Any) -> np.ndarray:
        if _featurises_graphs(backbone):
            out, valid = self._transform_graphs(items, backbone)
            self.valid_mask_ = valid
            self.domain_score_ = self._domain_score(out)
            return out
        smiles, valid = self._standardise(items)
        out = np.full((len(items), backbone.dim), np.nan, dtype=np.float32)
        idx = np.flatnonzero(valid)
        if idx.size:
            out[idx] = self._embed([smiles[i] for i in idx], idx, valid)
        self.valid_mask_ = valid
        self.domain_score_ = self._domain_score(out)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array([f"molmtd{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

    # -- graph students: chunks parsed, featurised and embedded (data-parallel on the CPU) --
    def _transform_graphs(self, items: list[Any], backbone: Any) -> tuple[np.ndarray, np.ndarray]:
        """Embed ``items`` with a GNN backbone: (rows [N, d], valid mask [N])."""
        from molmtd.utils import progress_bar as tqdm

        device = next(iter(backbone.parameters())).device
        out = np.full((len(items), backbone.dim), np.nan, dtype=np.float32)
        valid = np.zeros(len(items), dtype=bool)
        n_jobs = self._n_jobs(len(items))
        starts = range(0, len(items), _CHUNK)
        chunks = [items[s : s + _CHUNK] for s in starts]
        # compiled code is made once, here, not again in every pool process of every call
        if n_jobs > 1 and device.type == "cpu" and self.backend != "compile":
            embedded = self._embedded_in_pool(chunks, n_jobs)
        else:  # featurised by n_jobs processes, embedded here (a GPU stays in this process)
            embedded = contextlib.nullcontext(
                self._embed_featurised(featurised)
                for featurised in _featurised_iter(chunks, n_jobs, self._standardize_mode())
            )
        with (
            tqdm(total=len(items), desc="embed", unit="mol", disable=not self.verbose) as bar,
            embedded as results,
        ):
            for start, chunk, (rows, rejected) in zip(starts, chunks, results):
                for offset, why in rejected:
                    self._reject(start + offset, chunk[offset], why)
                out[start : start + len(chunk)] = rows
                valid[start : start + len(chunk)] = True
                valid[[start + offset for offset, _ in rejected]] = False
                bar.update(len(chunk))
        return out, valid

    def _embed_featurised(
        self, featurised: list[dict[str, np.ndarray] | _Rejected]
    ) -> tuple[np.ndarray, list[tuple[int, _Rejected]]]:
        """Rows of one featurised chunk (NaN where rejected) and its rejections by offset."""
        import torch

        from molmtd.training.inference import eval_mode

        backbone = self._backbone()
        device = next(iter(backbone.parameters())).device
        rows = np.full((len(featurised), backbone.dim), np.nan, dtype=np.float32)
        graphs = [(i, g) for i, g in enumerate(featurised) if not isinstance(g, _Rejected)]
        rejected = [(i, g) for i, g in enumerate(featurised) if isinstance(g, _Rejected)]
        batch_size = int(self.batch_size)
        with eval_mode(backbone), torch.inference_mode(), self._autocast(device):
            for b in range(0, len(graphs), batch_size):
                self._forward(backbone, graphs[b : b + batch_size], rows, device)
        return rows, rejected

    def _embed_chunk(self, chunk: list[Any]) -> tuple[np.ndarray, list[tuple[int, _Rejected]]]:
        """Parse, featurise and embed one chunk (what each pool process does)."""
        return self._embed_featurised(_featurise_chunk(chunk, self._standardize_mode()))

    @contextlib.contextmanager
    def _embedded_in_pool(
        self, chunks: list[list[Any]], n_jobs: int
    ) -> Iterator[Iterator[tuple[np.ndarray, list[tuple[int, _Rejected]]]]]:
        """``_embed_chunk`` of each chunk, in order, by ``n_jobs`` processes of one thread.

        Data-parallel: each process parses, featurises and embeds whole chunks, so the
        forward pass runs on every core at once without OpenMP threads (which stall when
        oversubscribed). The pool is terminated when the block exits, also on error.
        """
        import multiprocessing
        import sys

        # loaded, resolved and prepared here, once, so that every process embeds alike
        backbone, precision = self._backbone(), self.precision_
        if self.backend == "onnx":
            self._onnx_student()  # exported once, here; each process opens its own session
        elif precision == "int8":
            self._quantised(backbone)
        # fork (as torch's DataLoader does on Linux) shares the loaded weights; elsewhere
        # each process loads them from this Featurizer's parameters
        ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
        with ctx.Pool(n_jobs, initializer=_init_embedding_process, initargs=(self,)) as pool:
            yield pool.imap(_embed_in_process, chunks, chunksize=1)

    # -- backend="onnx" ------------------------------------------------------------------
    def _forward(
        self, backbone: Any, graphs: list[tuple[int, dict[str, np.ndarray]]], out: Any, device: Any
    ) -> None:
        """One batch's rows into ``out``: by torch, or by ONNX Runtime for backend="onnx"."""
        if self.backend == "onnx":
            out[[row for row, _ in graphs]] = self._onnx_student().run([g for _, g in graphs])
            return
        if self.backend == "compile":
            module = self._compiled(backbone)
        elif self.precision_ == "int8":
            module = self._quantised(backbone)
        else:
            module = backbone
        _forward(module, graphs, out, device)

    def _quantised(self, backbone: Any) -> Any:
        """``backbone`` with int8 dynamically quantised linear layers, made once per backbone."""
        cached = self.__dict__.get("_lazy_int8")
        if cached is None or cached[0] is not backbone:
            cached = (backbone, quantise_int8(backbone))
            self.__dict__["_lazy_int8"] = cached
        return cached[1]

    def _compiled(self, backbone: Any) -> Any:
        """``torch.compile(backbone)``, compiled once per loaded backbone."""
        import torch

        cached = self.__dict__.get("_lazy_compiled")
        if cached is None or cached[0] is not backbone:
            cached = (backbone, torch.compile(backbone, dynamic=True))
            self.__dict__["_lazy_compiled"] = cached
        return cached[1]

    def _onnx_student(self) -> Any:
        """The student exported to ONNX (once per weights file) in an ONNX Runtime session."""
        from molmtd.export import cached_onnx_student
        from molmtd.models import sha256_file
        from molmtd.training.checkpoint import WEIGHTS
        from molmtd.training.inference import resolve_student_path

        cached = self.__dict__.get("_lazy_onnx")
        if cached is not None and cached[0] == str(self.model):
            return cached[1]
        # the loaded model's verified hash; an unverified folder's weights are hashed here
        backbone = self._backbone()
        sha = backbone.meta.get("sha256") or sha256_file(
            resolve_student_path(Path(self.model)) / WEIGHTS
        )
        cache = Path.home() / ".cache" / "molmtd" / "onnx"
        student = cached_onnx_student(backbone, sha, cache)  # its rows checked on load
        self.__dict__["_lazy_onnx"] = (str(self.model), student)
        return student

    # -- trust: standardisation and provenance ------------------------------------------
    def _standardize_mode(self) -> Standardize:
        """``standardize``, with ``"auto"`` resolved from the model card (else ``"none"``)."""
        if self.standardize != "auto":
            return self.standardize  # type: ignore[return-value]
        meta = getattr(self._backbone(), "meta", None) or {}
        mode = (meta.get("card") or {}).get("standardize") or meta.get("standardize") or "none"
        if mode not in STANDARDIZE_MODES:
            raise ValueError(
                f"the model card's standardize {mode!r} is not one of {STANDARDIZE_MODES}"
            )
        return mode

    def _domain_score(self, out: np.ndarray) -> np.ndarray:
        """Domain score of each row (:mod:`molmtd.domain`); NaN without a reference."""
        reference = getattr(self._backbone(), "domain", None)
        if reference is None:
            return np.full(len(out), np.nan, dtype=np.float32)
        return reference.score(out)

    @property
    def provenance_(self) -> dict[str, Any]:
        from molmtd.provenance import software_versions

        meta = getattr(self._backbone(), "meta", None) or {}
        return {
            "model": str(meta.get("model_name", self.model)),
            "weights_sha256": meta.get("sha256"),
            "verified": meta.get("sha256") is not None,
            "dim": self.n_features_out_,
            "precision": self.precision_,
            "standardize": self._standardize_mode(),
            "domain_reference": getattr(self._backbone(), "domain", None) is not None,
            "versions": software_versions(),
        }

    # -- helpers -------------------------------------------------------------------------
    def _autocast(self, device: Any) -> contextlib.AbstractContextManager[Any]:
        """bfloat16 autocast on ``device`` when ``precision="bfloat16"``, else nothing."""
        import torch

        if self.precision_ != "bfloat16":
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)

    def _reject(self, index: int, item: Any, why: _Rejected) -> None:
        """Raise for an invalid input when ``on_error="raise"``; its row stays NaN otherwise."""
        if self.on_error != "raise":
            return
        raise rejection_error(index, item, why, hint=True)

    def _standardise(self, items: list[Any]) -> tuple[list[str], np.ndarray]:
        """Parse every input; invalid ones raise or are flagged, by ``on_error``."""
        from rdkit import Chem

        smiles: list[str] = []
        valid = np.ones(len(items), dtype=bool)
        mode = self._standardize_mode()
        with rdkit_quiet():
            for i, item in enumerate(items):
                mol = item if isinstance(item, Chem.Mol) else parse_mol(item)
                if mol is not None and mol.GetNumAtoms():
                    mol = standardize_mol(mol, mode)
                if mol is None or mol.GetNumAtoms() == 0:
                    self._reject(i, item, _Rejected(unparsable=True))
                    valid[i] = False
                    smiles.append("")
                    continue
                smiles.append(Chem.MolToSmiles(mol))
        return smiles, valid

    def _embed(self, smiles: list[str], positions: np.ndarray, valid: np.ndarray) -> np.ndarray:
        from molmtd.training.inference import embed

        backbone = self._backbone()
        workers = max(self._n_jobs(len(smiles)) - 1, 0)
        kwargs = dict(batch_size=int(self.batch_size), num_workers=workers, progress=self.verbose)
        device = next(iter(backbone.parameters())).device
        try:
            with rdkit_quiet(), self._autocast(device):
                return embed(backbone, smiles, **kwargs)
        except ValueError:
            pass
        # A molecule RDKit parses but the graph featuriser rejects: find it one by one.
        rows = np.full((len(smiles), backbone.dim), np.nan, dtype=np.float32)
        for j, smi in enumerate(smiles):
            try:
                with rdkit_quiet(), self._autocast(device):
                    rows[j] = embed(backbone, [smi], batch_size=1)[0]
            except ValueError as err:
                self._reject(int(positions[j]), smi, _Rejected(unparsable=False, detail=str(err)))
                valid[positions[j]] = False
        return rows


def bfloat16_relative_error(backbone: Any, smiles: Sequence[str]) -> np.ndarray:
    """Relative L2 distance of each molecule's bfloat16 row from its float32 row.

    Only measured for students that featurise graphs; others get ``[inf]`` (so "auto"
    keeps them in float32).
    """
    import torch

    from molmtd.backbones.features import smiles_to_graph
    from molmtd.training.inference import eval_mode

    if not _featurises_graphs(backbone):
        return np.array([np.inf])
    device = next(iter(backbone.parameters())).device
    graphs = [(i, smiles_to_graph(s, i)) for i, s in enumerate(smiles)]
    rows = np.zeros((2, len(smiles), backbone.dim), dtype=np.float32)
    with eval_mode(backbone), torch.inference_mode():
        _forward(backbone, graphs, rows[0], device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            _forward(backbone, graphs, rows[1], device)
    return np.linalg.norm(rows[1] - rows[0], axis=1) / np.linalg.norm(rows[0], axis=1)


def _featurises_graphs(backbone: Any) -> bool:
    """True for the GNN backbones, whose collate turns molecules into OGB graphs."""
    from molmtd.backbones.features import GraphCollator

    return isinstance(getattr(backbone, "collator", None), GraphCollator)


_PROCESS_FEATURIZER: Featurizer | None = None


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """``torch.set_num_threads(n)`` for the block, then the previous setting (None: unchanged)."""
    import torch

    previous = torch.get_num_threads()
    if n is not None and n != previous:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def _init_embedding_process(featurizer: Featurizer) -> None:
    """Pool initialiser: one torch thread, and this process's own ONNX Runtime session."""
    import torch

    global _PROCESS_FEATURIZER
    torch.set_num_threads(1)
    featurizer.__dict__.pop("_lazy_onnx", None)
    _PROCESS_FEATURIZER = featurizer


def _embed_in_process(chunk: list[Any]) -> tuple[np.ndarray, list[tuple[int, _Rejected]]]:
    assert _PROCESS_FEATURIZER is not None, "called outside a pool made by _embedded_in_pool"
    return _PROCESS_FEATURIZER._embed_chunk(chunk)  # _featurise_chunk silences RDKit


def _forward(
    backbone: Any,
    graphs: list[tuple[int, dict[str, np.ndarray]]],
    out: np.ndarray,
    device: Any,
) -> None:
    """Embed one batch of ``(row, graph)`` pairs into ``out[row]`` (caller sets eval mode)."""
    from molmtd.backbones.features import batch_graphs
    from molmtd.training.data import to_device

    emb = backbone(to_device(batch_graphs([g for _, g in graphs]), device))
    out[[row for row, _ in graphs]] = emb.float().cpu().numpy()
