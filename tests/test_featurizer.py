"""Featurizer: scikit-learn contract, row alignment, error handling, pickling, CLI."""

from __future__ import annotations

import importlib.util
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem
from safetensors.torch import save_file

from molmtd.backbones import build_backbone
from molmtd.featurizer import Featurizer, InvalidMoleculeError

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1", "O=C(O)c1ccccc1OC(C)=O"]


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised small GINE saved in the exported-student format."""
    torch.manual_seed(0)
    config = {"name": "gine", "dim": 32, "hidden": 32, "num_layers": 2}
    backbone = build_backbone(config)
    folder = tmp_path_factory.mktemp("student")
    tensors = {f"backbone.{k}": v.contiguous() for k, v in backbone.state_dict().items()}
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "meta.json").write_text(json.dumps({"backbone": backbone.config}))
    return folder


def test_rows_align_with_inputs_and_invalid_rows_are_nan(student_dir: Path) -> None:
    feat = Featurizer(model=student_dir, on_error="nan")
    inputs = [SMILES[0], "not_a_smiles", SMILES[1], "", SMILES[2], "C1CC"]
    X = feat.transform(inputs)
    assert X.shape == (6, 32) and X.dtype == np.float32
    assert feat.valid_mask_.tolist() == [True, False, True, False, True, False]
    assert np.isnan(X[~feat.valid_mask_]).all()
    assert np.isfinite(X[feat.valid_mask_]).all()
    # Each valid row equals the embedding of that molecule alone (no reordering, no batch leak).
    for i in np.flatnonzero(feat.valid_mask_):
        np.testing.assert_allclose(X[i], feat.transform([inputs[i]])[0], rtol=1e-5, atol=1e-5)


def test_raise_names_index_and_smiles(student_dir: Path) -> None:
    with pytest.raises(InvalidMoleculeError, match=r"input 2 \('C1CC'\)"):
        Featurizer(model=student_dir).transform([SMILES[0], SMILES[1], "C1CC"])


def test_accepts_mols_series_arrays(student_dir: Path) -> None:
    feat = Featurizer(model=student_dir)
    ref = feat.transform(SMILES)
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    np.testing.assert_allclose(feat.transform(mols), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(feat.transform(pd.Series(SMILES)), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(feat.transform(np.array(SMILES)), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        feat.transform(pd.DataFrame({"s": SMILES})), ref, rtol=1e-5, atol=1e-5
    )
    with pytest.raises(TypeError, match="single string"):
        feat.transform("CCO")


def test_pipeline_gridsearch_and_pickle(student_dir: Path) -> None:
    from sklearn.base import clone
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    smiles = [Chem.MolToSmiles(Chem.MolFromSmiles("C" * n + "O")) for n in range(1, 21)]
    y = np.arange(20, dtype=float)
    pipe = make_pipeline(Featurizer(model=student_dir), Ridge())
    search = GridSearchCV(pipe, {"ridge__alpha": [0.1, 1.0]}, cv=2).fit(smiles, y)
    assert search.best_estimator_.predict(smiles[:3]).shape == (3,)
    feat = Featurizer(model=student_dir)
    X = feat.transform(SMILES)
    blob = pickle.dumps(feat)
    assert len(blob) < 2_000, "weights must not be pickled with the featurizer"
    np.testing.assert_array_equal(pickle.loads(blob).transform(SMILES), X)
    assert clone(feat).get_params() == feat.get_params()
    assert feat.get_feature_names_out().shape == (32,)


def test_parallel_featurisation_matches_serial(student_dir: Path, monkeypatch) -> None:
    import molmtd.student.runtime as runtime_module

    smiles = (SMILES * (600 // len(SMILES) + 1))[:600]  # above the pool threshold (512)
    pools = []
    original = runtime_module.embedded_in_pool
    monkeypatch.setattr(
        runtime_module,
        "embedded_in_pool",
        lambda runtime, options, chunks, n: pools.append(n) or original(runtime, options, chunks, n),
    )
    serial = Featurizer(model=student_dir, batch_size=8).transform(smiles)
    parallel = Featurizer(model=student_dir, batch_size=8, n_jobs=2).transform(smiles)
    assert pools == [2]  # the parallel run did start a pool of two processes
    np.testing.assert_allclose(parallel, serial, rtol=1e-5, atol=1e-5)


def test_cli_featurize_csv_to_parquet(student_dir: Path, tmp_path: Path) -> None:
    from molmtd.cli import main

    src = tmp_path / "in.csv"
    pd.DataFrame({"id": [1, 2, 3], "smiles": [SMILES[0], "bad", SMILES[1]]}).to_csv(
        src, index=False
    )
    out = tmp_path / "out.parquet"
    assert main(["featurize", str(src), "--model", str(student_dir), "-o", str(out)]) == 0
    table = pd.read_parquet(out)
    assert table["id"].tolist() == [1, 2, 3]
    assert table["valid"].tolist() == [True, False, True]
    assert table.filter(like="molmtd").shape == (3, 32)


def test_random_featurizer_copies_architecture(student_dir: Path) -> None:
    from molmtd.random_student import random_featurizer

    feat = random_featurizer(str(student_dir), seed=3)
    X = feat.transform(SMILES)
    assert X.shape == (5, 32) and np.isfinite(X).all()
    trained = Featurizer(model=student_dir).transform(SMILES)
    assert not np.allclose(X, trained)  # different weights, same architecture
    np.testing.assert_array_equal(random_featurizer(str(student_dir), seed=3).transform(SMILES), X)


# -- graph fast path: one parse per molecule, pool featurisation, same embeddings -----------
VARIED = [
    *SMILES,
    "C[C@H](N)C(=O)O",  # stereo centres, written canonically and not
    "N[C@@H](C)C(=O)O",
    "OC(=O)[C@@H](N)Cc1ccccc1",
    "C[C@]12CC[C@H]3[C@@H](CC=C4C[C@@H](O)CC[C@@]43C)[C@@H]1CC[C@@H]2O",
    "C1C[C@H]2CC[C@@H]1C2",
    "F/C=C/F",  # double-bond stereo
    "F/C=C\\F",
    "C/C=C/C(=O)O",
    "CC/C=C\\C[C@H](O)/C=C/C",
    "[NH4+].[Cl-]",  # charged, multi-fragment
    "O=C([O-])c1ccccc1.[Na+]",
    "C[N+](C)(C)C.[Br-]",
    "[O-][n+]1ccccc1",
    "CC(=O)[O-].CC(=O)[O-].[Mg+2]",
    "O.O.O.[Cu+2].[O-]S(=O)(=O)[O-]",
    "c1ccc2[nH]ccc2c1",  # aromatic
    "C1=CC=CC=C1",
    "c1ccc2ccccc2c1",
    "c1ccncc1",
    "c1cc[se]c1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "OC1=CC=CC=C1",
    "CC(C)(C)[Si](C)(C)O",
    "[2H]C([2H])([2H])O",
    "[13CH4]",
    "[H][H]",
    "C",
    "[Fe]",
    "[Na+].[Cl-]",
    "ClC(Cl)(Cl)Cl",
    "C1CC2(CC1)OCCO2",
    "C#CC#N",
    "O=S(=O)(N)c1ccc(N)cc1",
    "CC(C)Cc1ccc([C@@H](C)C(=O)O)cc1",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
]


def _varied_inputs() -> list[str]:
    """VARIED plus a non-canonical spelling of each of its first 15 molecules."""
    import random

    random.seed(0)
    shuffled = [Chem.MolToSmiles(Chem.MolFromSmiles(s), doRandom=True) for s in VARIED[:15]]
    return VARIED + shuffled


def _old_path(student_dir: Path, items: list) -> np.ndarray:
    """Embeddings as the SMILES-canonicalising path computes them."""
    from molmtd.training import embed, load_student

    mols = [m if isinstance(m, Chem.Mol) else Chem.MolFromSmiles(m) for m in items]
    return embed(load_student(student_dir), [Chem.MolToSmiles(m) for m in mols], batch_size=7)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make n_jobs > 1 start a pool on a few dozen molecules."""
    import molmtd.student.runtime as runtime

    monkeypatch.setattr(runtime, "CHUNK", 8)
    monkeypatch.setattr(runtime, "MIN_POOL_ITEMS", 16)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_graph_path_equals_canonical_smiles_path(
    student_dir: Path, small_chunks: None, n_jobs: int
) -> None:
    inputs = _varied_inputs()
    assert len(inputs) >= 50
    ref = _old_path(student_dir, inputs)
    feat = Featurizer(model=student_dir, batch_size=16, n_jobs=n_jobs, precision="float32")
    X = feat.transform(inputs)
    assert X.dtype == np.float32 and feat.valid_mask_.all()
    np.testing.assert_allclose(X, ref, rtol=0, atol=1e-5)
    # Any spelling of a stereo molecule embeds like its canonical SMILES.
    mols = [Chem.MolFromSmiles(s) for s in inputs]
    np.testing.assert_allclose(feat.transform(mols), ref, rtol=0, atol=1e-5)


def test_graph_path_mols_with_explicit_hydrogens(student_dir: Path, small_chunks: None) -> None:
    mols = [Chem.AddHs(Chem.MolFromSmiles(s)) for s in VARIED[:20]]
    ref = _old_path(student_dir, mols)
    X = Featurizer(model=student_dir, n_jobs=2, precision="float32").transform(mols)
    np.testing.assert_allclose(X, ref, rtol=0, atol=1e-5)


def test_pool_processes_embed_with_the_chosen_precision_and_backend(
    student_dir: Path, small_chunks: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = [*VARIED, "not_a_smiles", *VARIED]
    serial = Featurizer(model=student_dir, on_error="nan", precision="int8").transform(inputs)
    feat = Featurizer(model=student_dir, on_error="nan", precision="int8", n_jobs=2)
    pooled = feat.transform(inputs)
    assert np.flatnonzero(~feat.valid_mask_).tolist() == [len(VARIED)]
    np.testing.assert_allclose(pooled, serial, rtol=0, atol=1e-6, equal_nan=True)
    exact = Featurizer(model=student_dir, on_error="nan", precision="float32").transform(inputs)
    assert not np.allclose(pooled[:3], exact[:3], atol=1e-4)  # int8 really ran in the pool
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnxscript"):
        monkeypatch.setenv("HOME", str(tmp_path))
        onnx = Featurizer(model=student_dir, on_error="nan", backend="onnx", n_jobs=2)
        np.testing.assert_allclose(onnx.transform(inputs), exact, atol=1e-5, equal_nan=True)


def test_graph_path_restores_torch_threads(student_dir: Path, small_chunks: None) -> None:
    before = torch.get_num_threads()
    Featurizer(model=student_dir, n_jobs=before + 1).transform(VARIED)
    assert torch.get_num_threads() == before


def test_parallel_errors_name_index_and_smiles(student_dir: Path, small_chunks: None) -> None:
    inputs = [*VARIED, "C1CC", *VARIED]  # the bad one sits in a later chunk
    bad = len(VARIED)
    with pytest.raises(InvalidMoleculeError, match=rf"input {bad} \('C1CC'\) is not a valid"):
        Featurizer(model=student_dir, n_jobs=2).transform(inputs)
    feat = Featurizer(model=student_dir, n_jobs=2, on_error="nan")
    X = feat.transform(inputs)
    assert np.flatnonzero(~feat.valid_mask_).tolist() == [bad]
    assert np.isnan(X[bad]).all() and np.isfinite(np.delete(X, bad, axis=0)).all()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_molecule_rdkit_reads_but_featuriser_rejects(
    student_dir: Path, small_chunks: None, n_jobs: int
) -> None:
    # An unsanitised pentavalent carbon: a Mol object, but its SMILES does not parse back.
    hypervalent = Chem.MolFromSmiles("CC(C)(C)(C)(C)C", sanitize=False)
    hypervalent.UpdatePropertyCache(strict=False)
    inputs = [*VARIED[:20], hypervalent, *VARIED[:5]]
    with pytest.raises(InvalidMoleculeError, match=r"input 20 \('<rdkit Mol>'\) could not be"):
        Featurizer(model=student_dir, n_jobs=n_jobs).transform(inputs)
    feat = Featurizer(model=student_dir, n_jobs=n_jobs, on_error="nan", precision="float32")
    X = feat.transform(inputs)
    assert np.flatnonzero(~feat.valid_mask_).tolist() == [20]
    np.testing.assert_allclose(X[:20], _old_path(student_dir, VARIED[:20]), rtol=0, atol=1e-5)


def test_graph_path_progress_bar(student_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Featurizer(model=student_dir, verbose=True).transform(SMILES)
    assert "5/5" in capsys.readouterr().err


def test_batch_size_does_not_change_rows(student_dir: Path) -> None:
    smiles = SMILES * 7
    default = Featurizer(model=student_dir).transform(smiles)
    for batch_size in (1, 5, 256):
        other = Featurizer(model=student_dir, batch_size=batch_size).transform(smiles)
        np.testing.assert_allclose(other, default, rtol=1e-5, atol=1e-6)


def test_bfloat16_rows_are_close_to_float32_and_keep_the_contract(student_dir: Path) -> None:
    inputs = [*SMILES * 3, "not_a_smiles"]
    exact = Featurizer(model=student_dir, on_error="nan", precision="float32").transform(inputs)
    feat = Featurizer(model=student_dir, on_error="nan", precision="bfloat16")
    fast = feat.transform(inputs)
    assert fast.dtype == np.float32 and fast.shape == exact.shape
    assert feat.valid_mask_.tolist() == [True] * 15 + [False]
    assert np.isnan(fast[-1]).all()
    a, b = exact[:-1], fast[:-1]
    assert not np.array_equal(a, b)  # the forward pass really ran in bfloat16
    relative = np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)
    assert relative.max() < 0.02


def test_int8_rows_are_close_to_float32_and_keep_the_contract(student_dir: Path) -> None:
    inputs = [*SMILES * 3, "not_a_smiles"]
    exact = Featurizer(model=student_dir, on_error="nan", precision="float32").transform(inputs)
    feat = Featurizer(model=student_dir, on_error="nan", precision="int8")
    quantised = feat.transform(inputs)
    assert feat.precision_ == "int8"
    assert quantised.dtype == np.float32 and quantised.shape == exact.shape
    assert feat.valid_mask_.tolist() == [True] * 15 + [False]
    a, b = exact[:-1], quantised[:-1]
    assert not np.array_equal(a, b)  # the linear layers really ran in int8
    relative = np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)
    assert relative.max() < 0.15
    # the loaded float32 model is left as it was
    np.testing.assert_array_equal(
        Featurizer(model=student_dir, on_error="nan", precision="float32").transform(inputs), exact
    )
    for options in ({"backend": "onnx"}, {"backend": "compile"}, {"device": "cuda"}):
        with pytest.raises(ValueError, match="int8"):
            Featurizer(model=student_dir, precision="int8", **options).transform(SMILES)


def test_unknown_precision_is_named(student_dir: Path) -> None:
    with pytest.raises(ValueError, match="'float16'"):
        Featurizer(model=student_dir, precision="float16").transform(SMILES)  # type: ignore[arg-type]


def test_cli_precision_flag(student_dir: Path, tmp_path: Path) -> None:
    from molmtd.cli import main

    src = tmp_path / "in.smi"
    src.write_text("\n".join(SMILES) + "\n")
    exact, fast = tmp_path / "exact.npy", tmp_path / "fast.npy"
    for out, flags in ((exact, ["--precision", "float32"]), (fast, ["--precision", "bfloat16"])):
        assert (
            main(["featurize", str(src), "--model", str(student_dir), "-o", str(out), *flags]) == 0
        )
    a, b = np.load(exact), np.load(fast)
    assert a.shape == b.shape == (5, 32) and not np.array_equal(a, b)
    np.testing.assert_allclose(b, a, rtol=0.05, atol=0.05)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (frozenset({"avx2", "fma"}), "float32"),  # AVX2-only (e.g. AMD EPYC Zen 2/3)
        (frozenset({"avx2", "avx512f"}), "float32"),  # AVX512 without BF16
        (frozenset({"avx2", "avx512f", "avx512_bf16"}), "bfloat16"),
        (frozenset({"avx2", "avx512f", "amx_tile", "amx_bf16"}), "bfloat16"),
    ],
)
def test_auto_precision_follows_the_cpu_flags(
    student_dir: Path, monkeypatch: pytest.MonkeyPatch, flags: frozenset[str], expected: str
) -> None:
    import molmtd.cpu

    monkeypatch.setattr(molmtd.cpu, "cpu_flags", lambda: flags)
    feat = Featurizer(model=student_dir)
    assert feat.precision == "auto" and feat.precision_ == expected
    ref = Featurizer(model=student_dir, precision=expected).transform(SMILES)
    np.testing.assert_array_equal(feat.transform(SMILES), ref)


def test_auto_precision_falls_back_when_rows_check_fails(
    student_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import molmtd.cpu
    import molmtd.student.backends

    monkeypatch.setattr(molmtd.cpu, "cpu_flags", lambda: frozenset({"amx_bf16", "amx_tile"}))
    monkeypatch.setattr(molmtd.student.backends, "AUTO_MAX_RELATIVE_L2", 0.0)
    feat = Featurizer(model=student_dir)
    assert feat.precision_ == "float32"
    np.testing.assert_array_equal(
        feat.transform(SMILES), Featurizer(model=student_dir, precision="float32").transform(SMILES)
    )


def test_bfloat16_rows_check_measures_a_real_difference(student_dir: Path) -> None:
    from molmtd.student.backends import AUTO_CHECK_SMILES as _AUTO_CHECK_SMILES
    from molmtd.student.backends import bfloat16_relative_error

    error = bfloat16_relative_error(Featurizer(model=student_dir)._backbone(), _AUTO_CHECK_SMILES)
    assert error.shape == (len(_AUTO_CHECK_SMILES),)
    assert 0 < error.max() < 0.02


def test_onnx_backend_rows_equal_torch_rows(
    student_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    monkeypatch.setenv("HOME", str(tmp_path))  # the exported model is cached under ~/.cache
    inputs = [*SMILES * 30, "not_a_smiles"]
    exact = Featurizer(model=student_dir, on_error="nan", precision="float32").transform(inputs)
    feat = Featurizer(model=student_dir, on_error="nan", backend="onnx", batch_size=16)
    got = feat.transform(inputs)
    assert feat.precision_ == "float32"
    assert feat.valid_mask_.tolist() == [True] * 150 + [False]
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert len(list((tmp_path / ".cache" / "molmtd" / "onnx").glob("*.onnx"))) == 1
    with pytest.raises(ValueError, match="float32"):
        Featurizer(model=student_dir, backend="onnx", precision="bfloat16").transform(SMILES)


@pytest.mark.slow
def test_compile_backend_rows_equal_torch_rows(student_dir: Path) -> None:
    inputs = [*SMILES * 30, "not_a_smiles"]
    kwargs = dict(model=student_dir, on_error="nan", precision="float32", batch_size=16)
    exact = Featurizer(**kwargs).transform(inputs)
    feat = Featurizer(**kwargs, backend="compile")
    np.testing.assert_allclose(feat.transform(inputs), exact, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert feat._runtime().__dict__["_lazy_compiled"] is not feat._backbone()  # really compiled


@pytest.mark.slow
def test_compile_backend_compiles_once_with_processes(
    student_dir: Path, small_chunks: None
) -> None:
    inputs = [*VARIED, "not_a_smiles", *VARIED]
    kwargs = dict(model=student_dir, on_error="nan", precision="float32", batch_size=16)
    exact = Featurizer(**kwargs).transform(inputs)
    feat = Featurizer(**kwargs, backend="compile", n_jobs=2)
    np.testing.assert_allclose(feat.transform(inputs), exact, rtol=1e-5, atol=1e-5, equal_nan=True)
    compiled = feat._runtime().__dict__["_lazy_compiled"]  # compiled here, not in the pool processes
    feat.transform(inputs)
    assert feat._runtime().__dict__["_lazy_compiled"] is compiled
