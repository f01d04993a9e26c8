"""SMILES language-model teachers (generic HF checkpoint, rxnfp, rxnmapper) and ChemNet."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import shutil
import warnings

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from molmtd.teachers import get_teacher, list_teachers  # noqa: E402
from molmtd.teachers.language_models import (  # noqa: E402
    ChemNetTeacher,
    HFSmilesTeacher,
    RxnfpTeacher,
    RxnMapperTeacher,
)

MOLS = [
    "CCO",
    "c1ccccc1O",
    "CC(=O)Nc1ccc(O)cc1",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "Clc1ccc(Br)cc1",
    "C[C@H](N)C(=O)O",
]
INVALID = ["not_a_smiles", "", "C1CC", None]
CHARS = list("CNOSFPBrIlcnos()[]=#@+-123456789H/\\.%")


def _need(package: str) -> None:
    """Skip when a wheel is missing (rxnfp/rxnmapper are read, never imported)."""
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed")


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# --------------------------------------------------------------------------- tiny checkpoints
def _save_tiny_roberta(folder, seed: int = 0) -> None:
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4}
    for ch in CHARS:  # printable ASCII is its own byte-level symbol
        vocab.setdefault(ch, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tok = RobertaTokenizerFast(
        vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt")
    )
    tok.save_pretrained(folder)
    cfg = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=66,  # 64 usable positions (RoBERTa offsets by pad id + 1)
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    torch.manual_seed(seed)
    RobertaModel(cfg).save_pretrained(folder)


def _save_tiny_bert(folder) -> None:
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += [c for c in CHARS if c not in tokens] + ["##" + c for c in CHARS]
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n")
    BertTokenizer(str(folder / "vocab.txt"), do_lower_case=False).save_pretrained(folder)
    cfg = BertConfig(
        vocab_size=len(tokens),
        hidden_size=24,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=48,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertModel(cfg).save_pretrained(folder)


@pytest.fixture(scope="module")
def roberta_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "roberta"
    _save_tiny_roberta(folder)
    return folder


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "bert"
    _save_tiny_bert(folder)
    return folder


# --------------------------------------------------------------------------- HFSmilesTeacher
@pytest.mark.parametrize("arch, dim", [("roberta", 32), ("bert", 24)])
def test_hf_shapes_and_invalid_rows(arch, dim, roberta_dir, bert_dir):
    folder = roberta_dir if arch == "roberta" else bert_dir
    teacher = HFSmilesTeacher(folder, batch_size=3)
    smiles = [MOLS[0], INVALID[0], MOLS[1], INVALID[1], MOLS[2], INVALID[2], MOLS[3], INVALID[3]]
    X, mask = teacher.embed(smiles)
    assert teacher.dim == dim
    assert X.shape == (len(smiles), dim) and X.dtype == np.float32
    np.testing.assert_array_equal(mask, [True, False] * 4)
    assert np.isfinite(X[mask]).all()
    assert np.isnan(X[~mask]).all()
    X0, mask0 = teacher.embed([])
    assert X0.shape == (0, dim) and mask0.shape == (0,)


def test_hf_pooling_and_padding_mask(roberta_dir):
    cls = HFSmilesTeacher(roberta_dir, pooling="cls", batch_size=8)
    mean = HFSmilesTeacher(roberta_dir, pooling="mean", batch_size=8)
    Xc, _ = cls.embed(MOLS)
    Xm, _ = mean.embed(MOLS)
    assert not np.allclose(Xc, Xm, atol=1e-3)
    assert cls.config_hash != mean.config_hash
    long = "CC(C)Cc1ccc(cc1)C(C)C(=O)OCCOCCOCCN"
    for teacher in (cls, mean):
        alone, _ = teacher.embed(["CCO"])
        padded, _ = teacher.embed(["CCO", long])  # same batch: "CCO" is padded to `long`
        np.testing.assert_allclose(padded[0], alone[0], atol=1e-5)


def test_hf_truncation_is_reported(roberta_dir):
    teacher = HFSmilesTeacher(roberta_dir, pooling="cls", max_length=8)
    smiles = ["CCO", "CCCCCCCCCCCCCCCC", "C1CC1", "CCCCCCCCCCCCCCCCCCCC"]  # 5, 18, 7, 22
    with pytest.warns(RuntimeWarning, match=r"2 SMILES longer than 8 tokens.*indices 1, 3"):
        X, mask = teacher.embed(smiles)
    assert mask.all() and np.isfinite(X).all()
    np.testing.assert_array_equal(teacher.last_truncated, [1, 3])
    assert teacher.n_truncated == 2
    # <s> + 6 atoms + </s>: a truncated chain is embedded as its first six atoms.
    prefix, _ = teacher.embed(["CCCCCC"])
    np.testing.assert_allclose(X[1], prefix[0], atol=1e-5)
    np.testing.assert_allclose(X[3], prefix[0], atol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        teacher.embed(["CCO"])  # nothing to report
    assert teacher.n_truncated == 2 and len(teacher.last_truncated) == 0
    with pytest.raises(ValueError, match="limit of 64"):
        HFSmilesTeacher(roberta_dir, max_length=65)


def test_hf_canonicalisation(roberta_dir):
    canon = HFSmilesTeacher(roberta_dir, pooling="mean")
    raw = HFSmilesTeacher(roberta_dir, pooling="mean", canonicalize=False)
    Xc, _ = canon.embed(["OCC", "CCO", "[CH3:1][CH2:2][OH:3]"])
    Xr, _ = raw.embed(["OCC", "CCO"])
    np.testing.assert_allclose(Xc[0], Xc[1], atol=1e-6)  # same molecule, same string fed
    np.testing.assert_allclose(Xc[2], Xc[1], atol=1e-6)  # atom maps dropped
    assert np.abs(Xr[0] - Xr[1]).max() > 1e-4  # the strings as given differ
    np.testing.assert_allclose(Xr[1], Xc[1], atol=1e-6)  # "CCO" is already canonical


def test_hf_pickle_registry_and_config(roberta_dir, tmp_path):
    teacher = get_teacher("hf_smiles", path=roberta_dir, pooling="mean", teacher_name="tiny")
    assert isinstance(teacher, HFSmilesTeacher) and teacher.name == "tiny"
    X, _ = teacher.embed(MOLS)
    blob = pickle.dumps(teacher)
    assert len(blob) < 5_000  # model and tokenizer are not shipped
    clone = pickle.loads(blob)
    assert getattr(clone, "_lazy_model", None) is None
    np.testing.assert_allclose(clone.embed(MOLS)[0], X, atol=1e-6)

    text = json.dumps(teacher.config)  # JSON-serialisable
    assert str(roberta_dir) not in text and len(teacher.config["weights_sha256"]) == 64
    assert teacher.config["transformers"] == transformers.__version__
    # The same checkpoint elsewhere has the same key; other weights have another.
    copy = tmp_path / "elsewhere"
    shutil.copytree(roberta_dir, copy)
    assert (
        HFSmilesTeacher(copy, pooling="mean", teacher_name="tiny").config_hash
        == teacher.config_hash
    )
    _save_tiny_roberta(copy, seed=1)
    assert (
        HFSmilesTeacher(copy, pooling="mean", teacher_name="tiny").config_hash
        != teacher.config_hash
    )


# --------------------------------------------------------------------------- packaged teachers
PACKAGED = {
    "rxnfp": (RxnfpTeacher, 256, "rxnfp"),
    "rxnmapper": (RxnMapperTeacher, 256, "rxnmapper"),
    "chemnet": (ChemNetTeacher, 512, "fcd_torch"),
}


@pytest.fixture(scope="module", params=sorted(PACKAGED))
def packaged(request):
    _, dim, package = PACKAGED[request.param]
    _need(package)
    teacher = get_teacher(request.param)
    X, mask = teacher.embed(MOLS + INVALID)
    return request.param, teacher, dim, X, mask


def test_packaged_embeddings(packaged):
    name, teacher, dim, X, mask = packaged
    assert isinstance(teacher, PACKAGED[name][0]) and list_teachers()[name] == "lm"
    assert teacher.dim == dim and X.shape == (len(MOLS) + len(INVALID), dim)
    np.testing.assert_array_equal(mask, [True] * len(MOLS) + [False] * len(INVALID))
    good = X[mask]
    assert np.isfinite(good).all() and np.isnan(X[~mask]).all()
    # Different molecules, different embeddings (no collapsed / constant output).
    dist = np.linalg.norm(good[:, None] - good[None], axis=-1)
    off_diag = dist[~np.eye(len(good), dtype=bool)]
    assert off_diag.min() > 1e-3 * np.linalg.norm(good, axis=1).mean()
    # Deterministic, independent of batch order.
    again, _ = teacher.embed(MOLS[::-1])
    np.testing.assert_allclose(again[::-1], good, atol=1e-5)


def test_packaged_pickle_and_config(packaged):
    _, teacher, _, X, mask = packaged
    blob = pickle.dumps(teacher)
    assert len(blob) < 5_000
    clone = pickle.loads(blob)
    assert getattr(clone, "_lazy_model", None) is None
    np.testing.assert_allclose(clone.embed(MOLS)[0], X[mask], atol=1e-6)
    cfg = teacher.config
    json.dumps(cfg)
    assert len(cfg["weights_sha256"]) == 64 and "site-packages" not in json.dumps(cfg)
    assert clone.config_hash == teacher.config_hash


@pytest.mark.parametrize("name", ["rxnfp", "rxnmapper"])
def test_regex_tokenizer_matches_pretraining(name):
    """Tokens round-trip, no [UNK] on drug-like molecules, and the masked-LM head recovers
    hidden tokens (a wrong tokenizer, e.g. lower-cased SMILES, drops this to ~60 %)."""
    _need(name)
    from transformers import AlbertForMaskedLM, BertForMaskedLM

    teacher = get_teacher(name)
    tok, _ = teacher._load()
    smiles = [s for s in teacher._texts(MOLS)]
    for smi in smiles:
        tokens = tok.tokenize(smi)
        assert "".join(tokens) == smi and tok.unk_token not in tokens
    if name == "rxnfp":
        rxnfp_tok = pytest.importorskip("rxnfp.tokenization")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = rxnfp_tok.SmilesTokenizer(str(teacher.path / "vocab.txt"))
        for smi in [*smiles, "CC(=O)O.OCC>>CC(=O)OCC"]:
            assert tok(smi)["input_ids"] == theirs(smi)["input_ids"]
    mlm_cls = BertForMaskedLM if name == "rxnfp" else AlbertForMaskedLM
    mlm = mlm_cls.from_pretrained(teacher.path, local_files_only=True).eval()
    hits = total = 0
    for smi in smiles:
        ids = torch.tensor(tok(smi)["input_ids"])
        for pos in range(1, len(ids) - 1, 3):  # mask every third token, one at a time
            inp = ids.clone()
            inp[pos] = tok.mask_token_id
            with torch.no_grad():
                pred = mlm(input_ids=inp[None]).logits[0, pos].argmax().item()
            hits += int(pred == ids[pos].item())
            total += 1
    assert hits / total > 0.75, f"{name}: masked-token accuracy {hits}/{total}"


def test_lm_truncation_and_unknown_tokens_reported():
    _need("rxnfp")
    teacher = RxnfpTeacher(max_length=16)
    long = "CCCCCCCCCCCCCCCCCCCCCCCC(=O)O"
    with pytest.warns(RuntimeWarning, match="1 SMILES longer than 16 tokens"):
        X, mask = teacher.embed(["CCO", long])
    assert mask.all() and np.isfinite(X).all()
    np.testing.assert_array_equal(teacher.last_truncated, [1])
    with pytest.warns(RuntimeWarning, match=r"1 SMILES contain tokens missing.*indices 2\b"):
        X, mask = teacher.embed(["CCO", "bad", "C[Pu]C"])  # [Pu] is not in rxnfp's vocab
    np.testing.assert_array_equal(mask, [True, False, True])
    np.testing.assert_array_equal(teacher.last_unknown, [2])
    assert teacher.n_unknown == 1 and np.isfinite(X[mask]).all()


def test_chemnet_matches_fcd_torch_and_reports_truncation():
    fcd_torch = pytest.importorskip("fcd_torch")
    teacher = ChemNetTeacher()
    X, _ = teacher.embed(MOLS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fcd_torch.FCD(device="cpu", n_jobs=1).get_predictions(MOLS)
    np.testing.assert_allclose(X, ref, atol=1e-5)
    with pytest.warns(RuntimeWarning, match="1 SMILES longer than 349 symbols"):
        Xl, maskl = teacher.embed(["C" * 400, "CCO"])
    assert maskl.all() and np.isfinite(Xl).all()
    np.testing.assert_array_equal(teacher.last_truncated, [0])
