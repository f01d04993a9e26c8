"""Tests of the RDKit fingerprint/descriptor teachers (molmtd.teachers.fingerprints)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import MACCSkeys, rdFingerprintGenerator

from molmtd.teachers import get_teacher, list_teachers
from molmtd.teachers.fingerprints import RDKit2DTeacher
from molmtd.utils import parse_mol as parse_smiles

DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",  # caffeine
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol
    "CN1CCC[C@H]1c1cccnc1",  # nicotine
    "OC(=O)c1ccccc1O",  # salicylic acid
    "Clc1ccc(cc1)C(c1ccccc1)N1CCN(CC1)CCOCC(=O)O",  # cetirizine
    "CS(=O)(=O)c1ccc(cc1)C1=C(C(=O)OC1)c1ccccc1",  # rofecoxib
    "COc1ccc2[nH]cc(CCNC(C)=O)c2c1",  # melatonin
    "CC1(C)S[C@@H]2[C@H](NC(=O)Cc3ccccc3)C(=O)N2[C@H]1C(=O)O",  # penicillin G
    "FC(F)(F)c1ccc(OC(CCNC)c2ccccc2)cc1",  # fluoxetine
    "O=C(O)C[C@@](O)(CC(=O)O)C(=O)O",  # citric acid
]
INVALID = ["C1CC", "not_a_smiles", ""]
FP_NAMES = ["morgan", "featmorgan", "atompair", "torsion", "maccs", "avalon", "erg"]
EXPECTED_DIM = {
    "morgan": 2048,
    "featmorgan": 2048,
    "atompair": 2048,
    "torsion": 2048,
    "maccs": 167,
    "avalon": 1024,
    "erg": 315,
    "rdkit2d": 217,
}


def _nci_smiles(n: int) -> list[str]:
    import rdkit

    path = Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"
    if not path.is_file():
        pytest.skip("rdkit's NCI sample file is not installed")
    lines = path.read_text().splitlines()[:n]
    return [line.split()[0] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def fitted_rdkit2d() -> RDKit2DTeacher:
    teacher = RDKit2DTeacher()
    teacher.fit(_nci_smiles(101) + DRUGS)
    return teacher


def _get(name: str, fitted: RDKit2DTeacher | None = None):
    return fitted if name == "rdkit2d" else get_teacher(name)


@pytest.mark.parametrize("name", [*FP_NAMES, "rdkit2d"])
def test_shapes_mask_nan_and_row_order(name: str, fitted_rdkit2d: RDKit2DTeacher) -> None:
    teacher = _get(name, fitted_rdkit2d)
    assert teacher.dim == EXPECTED_DIM[name]
    batch = [DRUGS[0], INVALID[0], *DRUGS[1:4], INVALID[1], DRUGS[4], INVALID[2]]
    X, mask = teacher.embed(batch)
    assert X.shape == (len(batch), teacher.dim) and X.dtype == np.float32
    assert mask.dtype == bool and mask.shape == (len(batch),)
    expected_mask = np.array([s not in INVALID for s in batch])
    np.testing.assert_array_equal(mask, expected_mask)
    assert np.isnan(X[~mask]).all()
    assert np.isfinite(X[mask]).all()
    assert (np.abs(X[mask]).sum(axis=1) > 0).all()  # a real embedding, not a zero row
    # Rows stay aligned with inputs: embedding one at a time gives the same rows.
    for i, smi in enumerate(batch):
        xi, mi = teacher.embed([smi])
        assert mi[0] == mask[i]
        np.testing.assert_array_equal(xi[0], X[i])
    rep = teacher.last_report
    assert rep["n"] == 1  # from the last single-molecule call
    X2, _ = teacher.embed(batch)
    rep = teacher.last_report
    assert rep["n_valid"] == 5 and rep["n_invalid_smiles"] == 3
    assert (
        rep["n"]
        == rep["n_valid"] + rep["n_invalid_smiles"] + rep["n_unsupported"] + rep["n_failed"]
    )
    np.testing.assert_array_equal(X, X2)  # deterministic


def test_empty_batch() -> None:
    X, mask = get_teacher("morgan").embed([])
    assert X.shape == (0, 2048) and mask.shape == (0,)


def test_parse_smiles_rejects_empty_and_non_strings() -> None:
    assert parse_smiles("") is None
    assert parse_smiles("   ") is None
    assert parse_smiles(None) is None  # type: ignore[arg-type]
    assert parse_smiles("C1CC") is None
    assert parse_smiles("CCO").GetNumAtoms() == 3


def test_morgan_matches_rdkit_counts() -> None:
    mol = Chem.MolFromSmiles(DRUGS[6])
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    ref = gen.GetCountFingerprintAsNumPy(mol).astype(np.float64)
    raw, _ = get_teacher("morgan", log1p=False).embed([DRUGS[6]])
    logged, _ = get_teacher("morgan").embed([DRUGS[6]])
    np.testing.assert_array_equal(raw[0], ref)
    np.testing.assert_allclose(logged[0], np.log1p(ref), rtol=1e-6)
    assert raw[0].max() > 1  # counts, not bits


def test_featmorgan_differs_from_morgan() -> None:
    a, _ = get_teacher("morgan").embed(DRUGS[:3])
    b, _ = get_teacher("featmorgan").embed(DRUGS[:3])
    assert not np.array_equal(a, b)


def test_maccs_matches_rdkit() -> None:
    ref = np.zeros(167)
    DataStructs.ConvertToNumpyArray(MACCSkeys.GenMACCSKeys(Chem.MolFromSmiles(DRUGS[7])), ref)
    X, _ = get_teacher("maccs").embed([DRUGS[7]])
    np.testing.assert_array_equal(X[0], ref)
    assert set(np.unique(X)) <= {0.0, 1.0}


def test_avalon_bits_option() -> None:
    X, _ = get_teacher("avalon", counts=False).embed(DRUGS[:4])
    assert set(np.unique(X)) == {0.0, 1.0}
    t = get_teacher("avalon", counts=True, log1p=False)
    Xc, _ = t.embed(DRUGS[:4])
    assert Xc.max() > 1


def test_config_hash_tracks_params() -> None:
    base = get_teacher("morgan")
    assert base.config["rdkit"]
    assert base.config_hash == get_teacher("morgan").config_hash
    hashes = {
        base.config_hash,
        get_teacher("morgan", radius=3).config_hash,
        get_teacher("morgan", fp_size=1024).config_hash,
        get_teacher("morgan", log1p=False).config_hash,
        get_teacher("featmorgan").config_hash,
        get_teacher("atompair").config_hash,
    }
    assert len(hashes) == 6
    assert get_teacher("morgan", fp_size=1024).dim == 1024


@pytest.mark.parametrize("name", FP_NAMES)
def test_pickle_small_and_roundtrip(name: str) -> None:
    teacher = get_teacher(name)
    X, mask = teacher.embed(DRUGS)  # builds lazy generators
    blob = pickle.dumps(teacher)
    assert len(blob) < 2000
    clone = pickle.loads(blob)
    assert clone.config_hash == teacher.config_hash
    X2, mask2 = clone.embed(DRUGS)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(mask, mask2)


def test_registry_families() -> None:
    teachers = list_teachers()
    for name in [*FP_NAMES, "rdkit2d"]:
        assert teachers[name] == "fingerprint"
        assert get_teacher(name).name == name


def test_rdkit2d_requires_fit() -> None:
    teacher = get_teacher("rdkit2d")
    assert teacher.requires_fit and not teacher.is_fitted
    with pytest.raises(RuntimeError, match="fit"):
        teacher.embed(DRUGS[:2])


def test_rdkit2d_fit_scaling(fitted_rdkit2d: RDKit2DTeacher) -> None:
    t = fitted_rdkit2d
    cfg = t.config
    assert len(cfg["median"]) == len(cfg["scale"]) == t.dim == len(cfg["descriptors"])
    assert all(s > 0 for s in cfg["scale"])
    assert cfg["n_fit"] >= 100
    assert t.config_hash != RDKit2DTeacher().config_hash  # fitted stats are in the hash
    smiles = _nci_smiles(101)
    X, mask = t.embed(smiles)
    assert mask.mean() > 0.95
    Xv = X[mask]
    assert np.isfinite(Xv).all()
    assert np.abs(Xv).max() <= t.clip
    # Robust centring: on the fit corpus, descriptors rarely sit at the clip bound and
    # the scaled median is about 0 (the corpus is the 101 NCI molecules + 12 drugs).
    assert np.mean(np.abs(Xv) >= t.clip) < 0.02
    assert np.median(np.abs(np.median(Xv, axis=0))) < 0.2
    # Scaling is affine before clipping: check one descriptor against its raw value.
    j = t.names.index("MolWt")
    raw, _ = t.raw_matrix([DRUGS[0]])
    expected = np.clip((raw[0, j] - t.median[j]) / t.scale[j], -t.clip, t.clip)
    x0, _ = t.embed([DRUGS[0]])
    assert x0[0, j] == pytest.approx(expected, rel=1e-5)


def test_rdkit2d_nonfinite_rule(fitted_rdkit2d: RDKit2DTeacher) -> None:
    # Tellurium has no Gasteiger parameters: partial-charge and BCUT descriptors are NaN.
    weird = "CC[Te]CC"
    raw, ok = fitted_rdkit2d.raw_matrix([weird])
    n_bad = int(np.isnan(raw[0]).sum())
    assert ok[0] and 0 < n_bad < 0.1 * fitted_rdkit2d.dim
    X, mask = fitted_rdkit2d.embed([weird, DRUGS[0]])
    assert mask.all() and np.isfinite(X).all()
    rep = fitted_rdkit2d.last_report
    assert rep["n_imputed_values"] == n_bad and rep["n_imputed_molecules"] == 1
    assert "MaxPartialCharge" in rep["imputed_per_descriptor"]
    j = fitted_rdkit2d.names.index("MaxPartialCharge")
    assert X[0, j] == 0.0  # imputed with the fitted median
    assert fitted_rdkit2d.imputation_totals["MaxPartialCharge"] >= 1
    # With a stricter threshold the same molecule is masked instead.
    strict = pickle.loads(pickle.dumps(fitted_rdkit2d))
    strict.max_nonfinite_frac = 0.01
    X, mask = strict.embed([weird, DRUGS[0]])
    assert mask.tolist() == [False, True] and np.isnan(X[0]).all()
    assert strict.last_report["n_too_many_nonfinite"] == 1
    assert strict.config_hash != fitted_rdkit2d.config_hash


def test_rdkit2d_pickle_roundtrip(fitted_rdkit2d: RDKit2DTeacher) -> None:
    blob = pickle.dumps(fitted_rdkit2d)
    assert len(blob) < 50_000  # names + fitted stats, no RDKit objects
    clone = pickle.loads(blob)
    X1, m1 = fitted_rdkit2d.embed(DRUGS)
    X2, m2 = clone.embed(DRUGS)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(m1, m2)
    assert clone.config_hash == fitted_rdkit2d.config_hash
