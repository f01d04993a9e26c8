"""SMILES language-model teachers and ChemNet, all offline.

- :class:`HFSmilesTeacher` (``"hf_smiles"``): any local Hugging Face encoder checkpoint
  (ChemBERTa, MolFormer, ...) through ``AutoTokenizer``/``AutoModel``.
- :class:`RxnfpTeacher` (``"rxnfp"``): the BERT pre-trained on USPTO reaction SMILES that
  ships inside the ``rxnfp`` wheel (hidden 256).
- :class:`RxnMapperTeacher` (``"rxnmapper"``): the ALBERT that ships inside the
  ``rxnmapper`` wheel (hidden 256).
- :class:`ChemNetTeacher` (``"chemnet"``): the 512-d penultimate layer of ChemNet from
  ``fcd_torch`` (the network behind the Fréchet ChemNet Distance).

All teachers parse every input with RDKit first: a SMILES that RDKit rejects (or an empty
molecule, or a non-string) gives a NaN row and ``mask=False``; the rest of the batch is
embedded normally, in input order. Models and tokenizers are built lazily (attributes
``_lazy_*``, dropped when pickling). Inputs longer than the model's window are truncated
and reported (``warnings.warn`` naming the count and example indices, and the counters
``n_truncated`` / ``last_truncated``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import importlib.metadata
import json
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.data.paths import package_file
from molmtd.teachers.base import BaseTeacher, nan_rows, register_teacher
from molmtd.utils import parse_mol, rdkit_quiet

__all__ = [
    "ChemNetTeacher",
    "HFSmilesTeacher",
    "RxnMapperTeacher",
    "RxnfpTeacher",
    "checked_smiles",
]

#: Weight files, in the order ``from_pretrained`` prefers them; the first pattern that
#: matches is hashed into ``config["weights_sha256"]``.
_WEIGHT_PATTERNS = (
    "model.safetensors",
    "model-*-of-*.safetensors",
    "pytorch_model.bin",
    "pytorch_model-*-of-*.bin",
    "*.safetensors",
    "tf_model.h5",
    "flax_model.msgpack",
)
#: Files that change tokenisation or architecture (hashed into ``config["files_sha256"]``,
#: together with any ``*.py`` modelling code of ``trust_remote_code`` checkpoints).
_AUX_FILES = (
    "config.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "spiece.model",
    "sentencepiece.bpe.model",
)
#: Model types whose position ids start after the padding index (RoBERTa family).
_OFFSET_POSITION_MODELS = {"roberta", "xlm-roberta", "camembert", "longformer", "data2vec-text"}
_MAX_EXAMPLES = 5


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256_files(paths: Sequence[Path]) -> str:
    """sha256 over (file name, bytes) of ``paths``, sorted by name (no directories)."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def checked_smiles(smiles: Sequence[Any], canonicalize: bool = True) -> list[str | None]:
    """Validate (and optionally canonicalise) SMILES with RDKit.

    Parameters
    ----------
    smiles
        Input strings; anything that is not a non-empty string RDKit parses into a molecule
        with at least one atom is invalid.
    canonicalize
        Return RDKit canonical (isomeric) SMILES, atom-map numbers removed, instead of the
        input string.

    Returns
    -------
    list
        One entry per input: the string to feed the model, or None when invalid.
    """
    from rdkit import Chem

    out: list[str | None] = []
    with rdkit_quiet():
        for smi in smiles:
            mol = parse_mol(smi)
            if mol is None:
                out.append(None)
            elif canonicalize:
                for atom in mol.GetAtoms():  # atom maps are not part of the molecule
                    atom.SetAtomMapNum(0)
                out.append(Chem.MolToSmiles(mol))
            else:
                out.append(smi.strip())
    return out


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Temporarily set torch's intra-op thread count (no-op for None)."""
    import torch

    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


class _TruncationReport:
    """Mixin: records and warns about inputs cut to the model's window."""

    n_truncated: int
    last_truncated: np.ndarray

    def _report_truncation(self, indices: Sequence[int], limit: int, unit: str) -> None:
        idx = np.asarray(sorted(indices), dtype=np.int64)
        self.last_truncated = idx
        self.n_truncated += len(idx)
        if len(idx):
            warnings.warn(
                f"{self.name}: {len(idx)} SMILES longer than {limit} {unit} were truncated "
                f"(input indices {_examples(idx)}); their embeddings only see the first "
                f"{limit} {unit}",
                RuntimeWarning,
                stacklevel=3,
            )


def _finite_only(X: np.ndarray, mask: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Mask (and NaN-fill, with a warning) rows the network turned non-finite."""
    bad = mask & ~np.isfinite(X).all(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)
        warnings.warn(
            f"{name}: non-finite embeddings for {len(idx)} SMILES (input indices "
            f"{_examples(idx)}); masked as invalid",
            RuntimeWarning,
            stacklevel=3,
        )
        X[bad] = np.nan
        mask = mask & ~bad
    return X, mask


def _examples(idx: np.ndarray) -> str:
    more = ", ..." if len(idx) > _MAX_EXAMPLES else ""
    return ", ".join(str(i) for i in idx[:_MAX_EXAMPLES]) + more


@register_teacher("hf_smiles", family="lm")
class HFSmilesTeacher(_TruncationReport, BaseTeacher):
    """Embeddings from a local Hugging Face encoder checkpoint (ChemBERTa, MolFormer, ...).

    Each SMILES is validated (and by default canonicalised) with RDKit, tokenised with the
    checkpoint's own tokenizer (``[CLS]``/``<s>`` ... ``[SEP]``/``</s>`` added), run through
    the encoder in eval mode without gradients, and pooled from one hidden layer.

    Parameters
    ----------
    path
        Folder holding ``config.json``, the weights and the tokenizer files (what
        ``save_pretrained`` writes). Never downloaded: ``local_files_only=True``.
    pooling
        ``"cls"``: hidden state of the first token; ``"mean"``: mean over all non-padding
        tokens (special tokens included; padding is excluded through the attention mask).
    max_length
        Token window including special tokens. None: the model's limit (its
        ``max_position_embeddings``, less the padding offset of RoBERTa-type models), at most
        512. Longer inputs are truncated and reported.
    batch_size
        Molecules per forward pass (inputs are sorted by length inside ``embed`` to limit
        padding; outputs come back in input order).
    canonicalize
        Feed RDKit canonical SMILES (recommended: one string per molecule, whatever the input
        spelling). False feeds the input string as given (still validated by RDKit).
    layer
        Which entry of ``hidden_states`` to pool (-1: last layer; 0: embeddings).
    trust_remote_code
        Allow checkpoints whose modelling code lives in the folder (MolFormer). Off by default.
    device
        Torch device for the forward pass (not part of ``config``).
    num_threads
        If set, torch intra-op threads while embedding (restored afterwards).
    teacher_name
        Teacher name (store key; default ``"hf_smiles"``); give different checkpoints
        different names, e.g. ``"chemberta"``.
    """

    name = "hf_smiles"

    def __init__(
        self,
        path: str | Path,
        pooling: str = "cls",
        max_length: int | None = None,
        batch_size: int = 64,
        canonicalize: bool = True,
        layer: int = -1,
        trust_remote_code: bool = False,
        device: str = "cpu",
        num_threads: int | None = None,
        teacher_name: str | None = None,
    ) -> None:
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', got {pooling!r}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.path = Path(path).expanduser().resolve()
        if not (self.path / "config.json").is_file():
            raise FileNotFoundError(f"no Hugging Face checkpoint (config.json) in {self.path}")
        if teacher_name is not None:
            self.name = teacher_name
        self.pooling = pooling
        self.batch_size = int(batch_size)
        self.canonicalize = bool(canonicalize)
        self.layer = int(layer)
        self.trust_remote_code = bool(trust_remote_code)
        self.device = device
        self.num_threads = num_threads
        model_cfg = json.loads((self.path / "config.json").read_text())
        self.model_type = str(model_cfg.get("model_type", ""))
        self.dim = self._hidden_size(model_cfg)
        limit = self._position_limit(model_cfg)
        if max_length is None:
            max_length = min(limit, 512) if limit else 512
        elif limit and max_length > limit:
            raise ValueError(f"max_length={max_length} exceeds the model's limit of {limit}")
        if max_length < 3:
            raise ValueError("max_length must leave room for special tokens and one token")
        self.max_length = int(max_length)
        self.n_truncated = 0
        self.last_truncated = np.zeros(0, dtype=np.int64)
        self.n_unknown = 0
        self.last_unknown = np.zeros(0, dtype=np.int64)
        self._identity: dict[str, str] | None = None  # sha256 of files, computed once

    # ------------------------------------------------------------------ description
    def _hidden_size(self, model_cfg: dict[str, Any]) -> int:
        for key in ("hidden_size", "d_model", "dim", "n_embd"):
            if isinstance(model_cfg.get(key), int):
                return int(model_cfg[key])
        from transformers import AutoConfig

        cfg = AutoConfig.from_pretrained(
            self.path, local_files_only=True, trust_remote_code=self.trust_remote_code
        )
        return int(cfg.hidden_size)

    def _position_limit(self, model_cfg: dict[str, Any]) -> int | None:
        n_pos = model_cfg.get("max_position_embeddings")
        if not isinstance(n_pos, int):
            return None
        if self.model_type in _OFFSET_POSITION_MODELS:
            n_pos -= int(model_cfg.get("pad_token_id", 1)) + 1
        return n_pos

    def _files_identity(self) -> dict[str, str]:
        if self._identity is None:
            files = [p for p in self.path.iterdir() if p.is_file()]
            weights: list[Path] = []
            for pattern in _WEIGHT_PATTERNS:  # what from_pretrained would load, in its order
                weights = [p for p in files if fnmatch.fnmatch(p.name, pattern)]
                if weights:
                    break
            if not weights:
                raise FileNotFoundError(f"no weight file in {self.path}")
            aux = [p for p in files if p.name in _AUX_FILES or p.suffix == ".py"]
            self._identity = {
                "weights_sha256": _sha256_files(weights),
                "files_sha256": _sha256_files(aux),
            }
        return self._identity

    @property
    def config(self) -> dict[str, Any]:
        """Cache-key description: file hashes (not paths), pooling, window, versions."""
        cfg: dict[str, Any] = {
            "teacher": self.name,
            "class": type(self).__name__,
            "model_type": self.model_type,
            **self._files_identity(),
            "dim": self.dim,
            "pooling": self.pooling,
            "layer": self.layer,
            "max_length": self.max_length,
            "canonicalize": self.canonicalize,
            "transformers": _version("transformers"),
        }
        if self.canonicalize:
            cfg["rdkit"] = _version("rdkit")
        return cfg

    # ------------------------------------------------------------------ lazy objects
    def _build_tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(
            self.path, local_files_only=True, trust_remote_code=self.trust_remote_code
        )

    def _build_model(self) -> Any:
        from transformers import AutoModel

        return AutoModel.from_pretrained(
            self.path, local_files_only=True, trust_remote_code=self.trust_remote_code
        )

    def _load(self) -> tuple[Any, Any]:
        if getattr(self, "_lazy_model", None) is None:
            from transformers import logging as hf_logging

            level = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()  # unused MLM-head weights are expected
            try:
                self._lazy_tokenizer = self._build_tokenizer()
                model = self._build_model()
            finally:
                hf_logging.set_verbosity(level)
            model.eval()
            self._lazy_model = model.to(self.device)
        return self._lazy_tokenizer, self._lazy_model

    # ------------------------------------------------------------------ embedding
    def _encode(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        """Token ids per text (special tokens added, cut to ``max_length``) and which were cut."""
        tokenizer, _ = self._load()
        ids = tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)[
            "input_ids"
        ]
        too_long = [i for i, seq in enumerate(ids) if len(seq) > self.max_length]
        if too_long:
            cut = tokenizer(
                [texts[i] for i in too_long],
                add_special_tokens=True,
                truncation=True,
                max_length=self.max_length,
                verbose=False,
            )["input_ids"]
            for i, seq in zip(too_long, cut):
                ids[i] = seq
        return ids, too_long

    def _forward(self, batch_ids: list[list[int]]) -> np.ndarray:
        import torch

        tokenizer, model = self._load()
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        width = max(len(s) for s in batch_ids)
        input_ids = torch.full((len(batch_ids), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch_ids), width), dtype=torch.long)
        for row, seq in enumerate(batch_ids):
            input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
            attention[row, : len(seq)] = 1
        input_ids = input_ids.to(self.device)
        attention = attention.to(self.device)
        want_hidden = self.layer != -1
        out = model(input_ids=input_ids, attention_mask=attention, output_hidden_states=want_hidden)
        hidden = out.hidden_states[self.layer] if want_hidden else out[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = attention.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        return pooled.float().cpu().numpy()

    def _texts(self, smiles: Sequence[Any]) -> list[str | None]:
        return checked_smiles(smiles, canonicalize=self.canonicalize)

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embed a batch of SMILES.

        Returns
        -------
        X : float32 array [N, dim]
            NaN rows where ``mask`` is False.
        mask : bool array [N]
            False for SMILES RDKit cannot parse.
        """
        import torch

        smiles = list(smiles)
        texts = self._texts(smiles)
        X = nan_rows(len(smiles), self.dim)
        mask = np.array([t is not None for t in texts], dtype=bool)
        valid = np.flatnonzero(mask)
        truncated: list[int] = []
        unknown: list[int] = []
        if len(valid):
            ids, cut = self._encode([texts[i] for i in valid])
            truncated = [int(valid[j]) for j in cut]
            unk = self._lazy_tokenizer.unk_token_id
            if unk is not None:
                unknown = [int(valid[j]) for j, seq in enumerate(ids) if unk in seq]
            order = np.argsort([len(s) for s in ids], kind="stable")
            with _torch_threads(self.num_threads), torch.inference_mode():
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start : start + self.batch_size]
                    X[valid[chunk]] = self._forward([ids[j] for j in chunk])
        self._report_truncation(truncated, self.max_length, "tokens")
        self._report_unknown(unknown)
        return _finite_only(X, mask, self.name)

    def _report_unknown(self, indices: Sequence[int]) -> None:
        idx = np.asarray(sorted(indices), dtype=np.int64)
        self.last_unknown = idx
        self.n_unknown += len(idx)
        if len(idx):
            warnings.warn(
                f"{self.name}: {len(idx)} SMILES contain tokens missing from the vocabulary, "
                f"fed as the unknown token (input indices {_examples(idx)})",
                RuntimeWarning,
                stacklevel=3,
            )


class _PackagedRegexBert(HFSmilesTeacher):
    """A BERT/ALBERT folder inside a wheel, tokenised with a SMILES regex."""

    package: str = ""
    relative: str = ""
    #: Name of the pattern constant in :mod:`molmtd.teachers.tokenizers`.
    regex_name: str = "RXNFP_SMILES_REGEX"

    def __init__(
        self,
        pooling: str = "mean",
        max_length: int | None = None,
        batch_size: int = 64,
        canonicalize: bool = True,
        layer: int = -1,
        device: str = "cpu",
        num_threads: int | None = None,
    ) -> None:
        super().__init__(
            package_file(self.package, self.relative),
            pooling=pooling,
            max_length=max_length,
            batch_size=batch_size,
            canonicalize=canonicalize,
            layer=layer,
            trust_remote_code=False,
            device=device,
            num_threads=num_threads,
        )

    @property
    def regex(self) -> str:
        """The SMILES token pattern fed to :class:`RegexSmilesTokenizer`."""
        from molmtd.teachers import tokenizers

        return getattr(tokenizers, self.regex_name)

    @property
    def config(self) -> dict[str, Any]:
        cfg = super().config
        cfg["package"] = f"{self.package}=={_version(self.package)}"
        cfg["checkpoint"] = self.relative
        cfg["smiles_regex"] = self.regex
        return cfg

    def _build_tokenizer(self) -> Any:
        from molmtd.teachers.tokenizers import RegexSmilesTokenizer

        return RegexSmilesTokenizer(
            self.path / "vocab.txt", regex_pattern=self.regex, model_max_length=self.max_length
        )


@register_teacher("rxnfp", family="lm")
class RxnfpTeacher(_PackagedRegexBert):
    """rxnfp's pre-trained reaction BERT (12 layers, hidden 256, 4 heads), 256-d.

    Weights: ``rxnfp/models/transformers/bert_pretrained/`` (masked-LM pre-training on
    USPTO reaction SMILES; Schwaller et al., Nat. Mach. Intell. 2021; MIT). Fed one
    molecule's RDKit canonical SMILES, ``[CLS] tokens [SEP]``, split with rxnfp's regex.
    On MOSES molecules this checkpoint recovers ~92 % of masked tokens (vs ~85 % when fed
    ``"SMILES>>"``), so molecules are fed as plain SMILES.

    Parameters
    ----------
    pooling
        ``"mean"`` (default: this checkpoint was only pre-trained, its ``[CLS]`` was never
        fine-tuned as a summary) or ``"cls"`` (what rxnfp's fingerprint generator reads).
    max_length, batch_size, canonicalize, layer, device, num_threads
        As in :class:`HFSmilesTeacher`.
    """

    name = "rxnfp"
    package = "rxnfp"
    relative = "models/transformers/bert_pretrained"

    def _build_model(self) -> Any:
        from transformers import BertModel

        return BertModel.from_pretrained(self.path, local_files_only=True, add_pooling_layer=False)


@register_teacher("rxnmapper", family="lm")
class RxnMapperTeacher(_PackagedRegexBert):
    """rxnmapper's ALBERT (12 shared layers, hidden 256, 8 heads), 256-d.

    Weights: ``rxnmapper/models/transformers/albert_heads_8_uspto_all_1310k/`` (masked-LM on
    1.3M USPTO reactions; Schwaller et al., Sci. Adv. 2021; MIT). Fed one molecule's RDKit
    canonical SMILES with rxnmapper's regex and vocabulary, case preserved (see
    :mod:`molmtd.teachers.tokenizers` on rxnmapper's lower-casing under new transformers).

    Parameters
    ----------
    pooling, max_length, batch_size, canonicalize, layer, device, num_threads
        As in :class:`RxnfpTeacher`.
    """

    name = "rxnmapper"
    package = "rxnmapper"
    relative = "models/transformers/albert_heads_8_uspto_all_1310k"
    regex_name = "RXNMAPPER_SMILES_REGEX"

    def _build_model(self) -> Any:
        from transformers import AlbertModel

        # The packaged weights were saved from CUDA; transformers maps them to CPU.
        return AlbertModel.from_pretrained(
            self.path, local_files_only=True, add_pooling_layer=False
        )


@register_teacher("chemnet", family="lm")
class ChemNetTeacher(_TruncationReport, BaseTeacher):
    """ChemNet's 512-d penultimate activations (fcd_torch's port of Preuer et al., 2018).

    ChemNet (2 strided 1-d convolutions + 2 LSTMs) was trained to predict ~6,000 bioactivity
    assays from SMILES; the Fréchet ChemNet Distance compares distributions of exactly these
    activations. Preprocessing is fcd_torch's own: RDKit canonical SMILES, one-hot over its
    35-symbol alphabet padded/cut to 350 positions and divided by 35
    (``fcd_torch.utils.get_one_hot``), so outputs equal ``FCD().get_predictions``.

    Parameters
    ----------
    batch_size
        Molecules per forward pass.
    device
        Torch device (not part of ``config``).
    num_threads
        If set, torch intra-op threads while embedding.
    """

    name = "chemnet"
    dim = 512
    #: fcd_torch's fixed input length (``SmilesDataset.__PAD_LEN``); the last slot is the
    #: end symbol, so at most 349 symbols of a SMILES are read.
    pad_len = 350

    def __init__(
        self, batch_size: int = 128, device: str = "cpu", num_threads: int | None = None
    ) -> None:
        self.batch_size = int(batch_size)
        self.device = device
        self.num_threads = num_threads
        self.weights_path = package_file("fcd_torch", "ChemNet_v0.13_pretrained.pt")
        self.n_truncated = 0
        self.last_truncated = np.zeros(0, dtype=np.int64)
        self._identity: str | None = None

    @property
    def config(self) -> dict[str, Any]:
        """Cache-key description: weight hash, preprocessing, versions."""
        if self._identity is None:
            self._identity = _sha256_files([self.weights_path])
        return {
            "teacher": self.name,
            "class": type(self).__name__,
            "weights_sha256": self._identity,
            "dim": self.dim,
            "layer": "penultimate (last LSTM state)",
            "pad_len": self.pad_len,
            "canonicalize": True,
            "fcd_torch": _version("fcd_torch"),
            "rdkit": _version("rdkit"),
        }

    def _load(self) -> Any:
        if getattr(self, "_lazy_model", None) is None:
            import torch
            from fcd_torch.utils import load_imported_model

            # A list of (layer type, (state_dict, kwargs, info)): plain containers and
            # tensors, so the safe loader accepts it (fcd_torch itself calls torch.load bare).
            keras_config = torch.load(self.weights_path, weights_only=True, map_location="cpu")
            model = load_imported_model(keras_config)
            model.eval()
            self._lazy_model = model.to(self.device)
        return self._lazy_model

    def _one_hot(self, smiles: str) -> np.ndarray:
        from fcd_torch.utils import get_one_hot

        features = get_one_hot(smiles, self.pad_len)
        return (features / features.shape[1]).astype(np.float32)

    @staticmethod
    def _n_symbols(smiles: str) -> int:
        """Symbols ``get_one_hot`` would read: up to the first ``.`` (where it stops), with
        ``Cl``/``Br``/``Si``-style pairs counted once."""
        head = smiles.split(".")[0]
        return len(head) - sum(1 for i in range(1, len(head)) if head[i] in "ril")

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embed a batch of SMILES (NaN rows, ``mask=False`` where RDKit fails)."""
        import torch

        smiles = list(smiles)
        texts = checked_smiles(smiles, canonicalize=True)
        X = nan_rows(len(smiles), self.dim)
        mask = np.array([t is not None for t in texts], dtype=bool)
        valid = np.flatnonzero(mask)
        truncated = [int(i) for i in valid if self._n_symbols(texts[i]) > self.pad_len - 1]
        if len(valid):
            model = self._load()
            with _torch_threads(self.num_threads), torch.inference_mode():
                for start in range(0, len(valid), self.batch_size):
                    rows = valid[start : start + self.batch_size]
                    batch = np.stack([self._one_hot(texts[i]) for i in rows])
                    x = torch.from_numpy(batch).to(self.device).transpose(1, 2)
                    X[rows] = model(x).float().cpu().numpy()
        self._report_truncation(truncated, self.pad_len - 1, "symbols")
        return _finite_only(X, mask, self.name)
