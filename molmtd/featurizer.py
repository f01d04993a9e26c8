"""``Featurizer``: SMILES or RDKit molecules to molmtd embeddings, a scikit-learn transformer.

>>> from molmtd import Featurizer
>>> X = Featurizer().transform(["CCO", "c1ccccc1O"])  # doctest: +SKIP

The transformer is stateless (``fit`` only validates), so it drops into
``sklearn.pipeline.Pipeline`` and ``GridSearchCV``. Weights load lazily on first use and are
not pickled with the object. The work is done by :class:`molmtd.student.runtime.StudentRuntime`;
this class holds the parameters, checks them, and keeps what a call reports.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from molmtd import cpu
from molmtd.errors import UserError
from molmtd.provenance import software_versions
from molmtd.standardize import Standardize
from molmtd.student import runtime as student_runtime
from molmtd.student.backends import torch_threads
from molmtd.student.molecules import InvalidMoleculeError, as_list
from molmtd.student.runtime import RunOptions, StudentRuntime

__all__ = ["Featurizer", "InvalidMoleculeError", "InvalidParameterError"]

OnError = Literal["raise", "nan"]
Precision = Literal["auto", "float32", "bfloat16", "int8"]
Backend = Literal["torch", "compile", "onnx"]
StandardizeOption = Literal["auto", "none", "largest_fragment", "parent"]


class InvalidParameterError(UserError, ValueError):
    """A Featurizer parameter that cannot work (names the parameter and its value)."""


def _check_device(device: str) -> None:
    """Raise :class:`InvalidParameterError` for a device torch cannot use here."""
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
        ``card.json`` (:func:`molmtd.student.loading.load_model`); a folder without one loads with an
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

    # -- the runtime that does the work --------------------------------------------------
    def _runtime(self) -> StudentRuntime:
        """The student runtime for the current ``model`` and ``device`` (made once per pair)."""
        key = (str(self.model), self.device)
        cached = self.__dict__.get("_lazy_runtime")
        if cached is None or cached[0] != key:
            cached = (key, StudentRuntime(self.model, self.device))
            self.__dict__["_lazy_runtime"] = cached
        return cached[1]

    def _backbone(self) -> Any:
        return self._runtime().backbone  # sha256-verified

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_lazy")}

    @property
    def n_features_out_(self) -> int:
        """Row width (the embedding, then any teacher heads)."""
        return self._runtime().dim

    @property
    def precision_(self) -> str:
        """``precision``, or for ``"auto"`` the precision chosen for this CPU and model."""
        if self.backend == "onnx":
            return "float32"
        if self.precision != "auto":
            return str(self.precision)
        return self._runtime().auto_precision()

    def _standardize_mode(self) -> Standardize:
        """``standardize``, with ``"auto"`` resolved from the model card (else ``"none"``)."""
        return self._runtime().standardize_mode(self.standardize)

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
        items = as_list(X)
        runtime = self._runtime()
        self._backbone()  # loaded (and verified) before the threads are set
        with torch_threads(self._threads(len(items))):
            options = RunOptions(
                batch_size=int(self.batch_size),
                backend=self.backend,
                precision=self.precision_,  # type: ignore[arg-type]
                standardize=self._standardize_mode(),
                on_error=self.on_error,
                n_jobs=self._n_jobs(len(items)),
                verbose=bool(self.verbose),
            )
            out, self.valid_mask_ = runtime.embed(items, options)
        self.domain_score_ = runtime.domain_score(out)
        return out

    def _threads(self, n_items: int) -> int | None:
        """Torch threads for this call (None: leave torch's setting); resolves "auto" once."""
        wanted = {"num_threads": self.num_threads, "n_jobs": self.n_jobs}
        measured = self.__dict__.get("_lazy_idle_at", (-1e9, 1))
        if "auto" in wanted.values() and n_items and time.monotonic() - measured[0] > 10:
            measured = (time.monotonic(), cpu.auto_threads())  # a 0.1 s look, reused for 10 s
            self.__dict__["_lazy_idle_at"] = measured
        self.__dict__["_lazy_idle"] = measured[1]
        if self.num_threads == "auto":
            return measured[1]
        return None if self.num_threads is None else int(self.num_threads)

    def _n_jobs(self, n_items: int) -> int:
        if n_items < student_runtime.MIN_POOL_ITEMS:
            return 1
        return int(self.__dict__.get("_lazy_idle", 1) if self.n_jobs == "auto" else self.n_jobs)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``molmtd0 ..``, then any head's ``molmtd_<teacher>_<descriptor>`` or ``..<j>``."""
        return np.array(self._runtime().column_names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

    @property
    def provenance_(self) -> dict[str, Any]:
        """What produced the rows: model, weights sha256, versions, precision, standardisation."""
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
