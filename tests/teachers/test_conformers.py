"""Tests of the conformer step and the 3D teachers (molmtd.teachers.conformers)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from molmtd.teachers import get_teacher, list_teachers
from molmtd.teachers.conformers import (
    CONFORMER_CACHE,
    MMFF_PROP,
    RDKit3DTeacher,
    clear_conformer_cache,
    conformer_stats,
    get_conformer,
    prefetch_conformers,
)

torch.set_num_threads(1)

# H, C, N, O only (ANI-1x elements).
HCNO = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",  # caffeine
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol
    "CN1CCC[C@H]1c1cccnc1",  # nicotine
    "COc1ccc2[nH]cc(CCNC(C)=O)c2c1",  # melatonin
    "O=C(O)C[C@@](O)(CC(=O)O)C(=O)O",  # citric acid
]
OTHER = [
    "Clc1ccc(cc1)C(c1ccccc1)N1CCN(CC1)CCOCC(=O)O",  # cetirizine (Cl)
    "CS(=O)(=O)c1ccc(cc1)C1=C(C(=O)OC1)c1ccccc1",  # rofecoxib (S)
    "FC(F)(F)c1ccc(OC(CCNC)c2ccccc2)cc1",  # fluoxetine (F)
]
INVALID = ["C1CC", "not_a_smiles", ""]
BATCH = [
    HCNO[0],
    INVALID[0],
    OTHER[0],
    HCNO[1],
    INVALID[1],
    HCNO[2],
    OTHER[1],
    INVALID[2],
    HCNO[3],
    OTHER[2],
    HCNO[4],
]
NAMES_3D = ["ani", "ani2x", "usrcat", "e3fp", "rdkit3d"]
DIMS = {"ani": 384, "ani2x": 1008, "usrcat": 60, "e3fp": 1024, "rdkit3d": 639}


@pytest.fixture(scope="module")
def fitted_rdkit3d() -> RDKit3DTeacher:
    teacher = RDKit3DTeacher()
    teacher.fit(HCNO + OTHER)
    return teacher


def _get(name: str, fitted: RDKit3DTeacher):
    return fitted if name == "rdkit3d" else get_teacher(name)


def test_conformer_step() -> None:
    mol = get_conformer(HCNO[0])
    assert mol is not None and mol.GetNumConformers() == 1
    assert mol.GetNumAtoms() == Chem.AddHs(Chem.MolFromSmiles(HCNO[0])).GetNumAtoms()
    assert mol.GetProp(MMFF_PROP) == "converged"
    pos = mol.GetConformer().GetPositions()
    for bond in mol.GetBonds():  # bond lengths of an optimised organic molecule, in Å
        d = np.linalg.norm(pos[bond.GetBeginAtomIdx()] - pos[bond.GetEndAtomIdx()])
        assert 0.9 < d < 1.6
    assert get_conformer("not_a_smiles") is None
    no_mmff = get_conformer(HCNO[0], mmff=False)
    assert no_mmff.GetProp(MMFF_PROP) == "disabled"
    assert not np.allclose(no_mmff.GetConformer().GetPositions(), pos)


def test_conformer_deterministic_and_canonical() -> None:
    clear_conformer_cache()
    a = get_conformer(HCNO[1]).GetConformer().GetPositions()
    clear_conformer_cache()  # regenerate from scratch
    b = get_conformer(HCNO[1]).GetConformer().GetPositions()
    np.testing.assert_array_equal(a, b)
    # A different SMILES of the same molecule maps to the same (canonical) conformer.
    other = Chem.MolToSmiles(Chem.MolFromSmiles(HCNO[1]), doRandom=True, canonical=False)
    assert other != HCNO[1]
    c = get_conformer(other).GetConformer().GetPositions()
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", NAMES_3D)
def test_shapes_mask_nan(name: str, fitted_rdkit3d: RDKit3DTeacher) -> None:
    teacher = _get(name, fitted_rdkit3d)
    assert teacher.dim == DIMS[name]
    X, mask = teacher.embed(BATCH)
    assert X.shape == (len(BATCH), DIMS[name]) and X.dtype == np.float32
    supported = HCNO if name == "ani" else HCNO + OTHER  # OTHER has Cl, S, F
    np.testing.assert_array_equal(mask, [s in supported for s in BATCH])
    assert np.isnan(X[~mask]).all()
    assert np.isfinite(X[mask]).all()
    assert (np.abs(X[mask]).sum(axis=1) > 0).all()
    rep = teacher.last_report
    assert rep["n_invalid_smiles"] == 3 and rep["n_conformer_failed"] == 0
    assert (
        rep["n"]
        == rep["n_valid"] + rep["n_invalid_smiles"] + rep["n_unsupported"] + rep["n_failed"]
    )
    assert rep["n_mmff_converged"] + rep["n_mmff_not_converged"] + rep["n_mmff_no_params"] > 0
    # Deterministic, and rows do not depend on the batch they are embedded in.
    X2, mask2 = teacher.embed(BATCH[::-1])
    np.testing.assert_array_equal(X2[::-1], X)
    np.testing.assert_array_equal(mask2[::-1], mask)


def test_ani_masks_other_elements() -> None:
    teacher = get_teacher("ani")
    before = conformer_stats()["generated"]
    _, mask = teacher.embed([*OTHER, "[Na+].[Cl-]", "CCBr", "OCCO"])
    assert mask.tolist() == [False, False, False, False, False, True]
    assert teacher.last_report["n_element_unsupported"] == 5
    # Rejected before any conformer work.
    assert conformer_stats()["generated"] - before <= 1
    # ANI-2x elements add S, F, Cl but not Na or Br.
    ani2x = get_teacher("ani2x")
    _, mask = ani2x.embed([*OTHER, "[Na+].[Cl-]", "CCBr", "OCCO"])
    assert mask.tolist() == [True, True, True, False, False, True]


def test_ani1x_constants_match_documented_construction() -> None:
    torchani = pytest.importorskip("torchani")
    ref = torchani.AEVComputer.cover_linearly(5.2, 3.5, 16.0, 8.0, 16, 4, 32.0, 8, 4)
    ours = get_teacher("ani").build_aev_computer()
    assert ours.aev_length == 384
    for a, b in zip(ref.constants(), ours.constants()):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "eta_r", "rc", "start", "n_el", "aev_dim"),
    [("ani", 16.0, 5.2, 0.9, 4, 384), ("ani2x", 19.7, 5.1, 0.8, 7, 1008)],
)
def test_ani_aev_radial_terms_by_hand(
    name: str, eta_r: float, rc: float, start: float, n_el: int, aev_dim: int
) -> None:
    """Per-element pooling of methane: the C block's radial H part equals the ANI formula."""
    teacher = get_teacher(name, pooling="element")
    assert teacher.dim == n_el * aev_dim
    X, mask = teacher.embed(["C"])
    assert mask[0]
    mol = get_conformer("C")
    pos = mol.GetConformer().GetPositions()
    d = np.linalg.norm(pos[1:] - pos[0], axis=1)  # C-H distances (atom 0 is C)
    shf_r = start + (rc - start) / 16 * np.arange(16)  # radial shifts
    fc = 0.5 * np.cos(np.pi * d / rc) + 0.5
    radial_h = (0.25 * np.exp(-eta_r * (d[:, None] - shf_r[None, :]) ** 2) * fc[:, None]).sum(0)
    blocks = X[0].reshape(n_el, aev_dim)  # element order H, C, N, O (, S, F, Cl)
    c_block = blocks[1]  # sum over C atoms / 5 atoms
    np.testing.assert_allclose(c_block[:16] * 5, radial_h, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(c_block[16 : 16 * n_el], 0, atol=1e-7)  # no heavy neighbours
    np.testing.assert_array_equal(blocks[2:], 0)  # no N, O (, S, F, Cl) atoms
    # Element blocks sum to the mean pooling.
    mean, _ = get_teacher(name).embed(["C"])
    np.testing.assert_allclose(blocks.sum(0), mean[0], rtol=1e-5, atol=1e-7)


def test_shared_conformer_cache() -> None:
    clear_conformer_cache()
    get_teacher("usrcat").embed(HCNO)
    generated = conformer_stats()["generated"]
    assert generated == len(HCNO)
    get_teacher("e3fp").embed(HCNO)
    get_teacher("ani").embed(HCNO)
    stats = conformer_stats()
    assert stats["generated"] == generated  # every conformer reused
    assert stats["hits"] >= 2 * len(HCNO)
    assert len(CONFORMER_CACHE) == len(HCNO)


def test_usrcat_is_rdkit_usrcat_of_shared_conformer() -> None:
    X, _ = get_teacher("usrcat").embed([HCNO[5]])
    ref = rdMolDescriptors.GetUSRCAT(Chem.RemoveHs(get_conformer(HCNO[5])))
    np.testing.assert_allclose(X[0], ref, rtol=1e-6)


def test_e3fp_bits_and_counts() -> None:
    X, mask = get_teacher("e3fp").embed(HCNO)
    assert mask.all() and set(np.unique(X)) == {0.0, 1.0}
    assert (X.sum(axis=1) >= 5).all()
    t2048 = get_teacher("e3fp", bits=2048)
    X2, _ = t2048.embed(HCNO)
    assert X2.shape == (len(HCNO), 2048)
    # Folding 2048 -> 1024 (index mod 1024) gives the 1024-bit fingerprint.
    np.testing.assert_array_equal(np.maximum(X2[:, :1024], X2[:, 1024:]), X)
    Xc, _ = get_teacher("e3fp", counts=True, log1p=False).embed(HCNO)
    np.testing.assert_array_equal(Xc > 0, X > 0)
    with pytest.raises(ValueError):
        get_teacher("e3fp", bits=1000)


def test_rdkit3d_fit_scaling(fitted_rdkit3d: RDKit3DTeacher) -> None:
    t = fitted_rdkit3d
    with pytest.raises(RuntimeError, match="fit"):
        RDKit3DTeacher().embed(HCNO[:1])
    assert t.dim == 639 and len(t.config["median"]) == 639
    X, mask = t.embed(HCNO + OTHER)
    assert mask.all()
    assert np.isfinite(X).all() and np.abs(X).max() <= t.clip
    j = t.names.index("NPR1")
    raw, _ = t.raw_matrix([HCNO[0]])
    assert 0 < raw[0, j] < 1
    assert X[0, j] == pytest.approx((raw[0, j] - t.median[j]) / t.scale[j], rel=1e-5)


def test_config_hash_tracks_params(fitted_rdkit3d: RDKit3DTeacher) -> None:
    base = get_teacher("ani")
    assert base.config_hash == get_teacher("ani").config_hash
    assert base.config["conformer"]["method"] == "ETKDGv3+MMFF94"
    hashes = {
        base.config_hash,
        get_teacher("ani", seed=7).config_hash,
        get_teacher("ani", mmff=False).config_hash,
        get_teacher("ani", pooling="element").config_hash,
        get_teacher("usrcat").config_hash,
    }
    assert len(hashes) == 5
    assert fitted_rdkit3d.config_hash != RDKit3DTeacher().config_hash


@pytest.mark.parametrize("name", NAMES_3D)
def test_pickle_and_registry(name: str, fitted_rdkit3d: RDKit3DTeacher) -> None:
    assert list_teachers()[name] == "3d"
    assert get_teacher(name).name == name
    teacher = _get(name, fitted_rdkit3d)
    X, mask = teacher.embed(HCNO[:3])  # builds the lazy AEV computer / fingerprinter
    blob = pickle.dumps(teacher)
    assert len(blob) < (60_000 if name == "rdkit3d" else 2_000)
    clone = pickle.loads(blob)
    assert not any(k.startswith("_lazy") for k in vars(clone))
    X2, mask2 = clone.embed(HCNO[:3])
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(mask, mask2)
    assert clone.config_hash == teacher.config_hash


# A pgp_broccatelli molecule on which ETKDG runs for minutes (seen in a benchmark run).
ETKDG_STALL = "O[C@H](COc1cccc2ncccc12)CN1CCN(C2c3ccccc3[C@H]3[C@H](c4ccccc42)C3(F)F)CC1"


def test_embed_timeout_absent_from_default_config() -> None:
    """Without a limit the config (and so the hash of built stores and caches) is unchanged."""
    from molmtd.teachers.conformers import set_default_embed_timeout

    for name in ("usrcat", "ani2x", "e3fp", "rdkit3d"):
        plain = get_teacher(name)
        assert "embed_timeout" not in plain.config["conformer"]
        assert plain.config_hash == get_teacher(name, embed_timeout=0).config_hash
        limited = get_teacher(name, embed_timeout=30)
        assert limited.config["conformer"]["embed_timeout"] == 30
        assert limited.config_hash != plain.config_hash
    try:
        set_default_embed_timeout(30)
        assert (
            get_teacher("usrcat").config_hash == get_teacher("usrcat", embed_timeout=30).config_hash
        )
        assert "embed_timeout" not in plain.config["conformer"]  # built teachers keep theirs
    finally:
        set_default_embed_timeout(0)
    assert "embed_timeout" not in get_teacher("usrcat").config["conformer"]
    with pytest.raises(ValueError, match="embed_timeout"):
        get_teacher("usrcat", embed_timeout=-1)


def test_embed_timeout_same_geometry_when_within_limit() -> None:
    from molmtd.teachers.conformers import generate_conformer

    mol = Chem.MolFromSmiles(HCNO[1])
    a = generate_conformer(mol).GetConformer().GetPositions()
    b = generate_conformer(mol, embed_timeout=30).GetConformer().GetPositions()
    np.testing.assert_array_equal(a, b)


def test_embed_timeout_stops_a_stalling_molecule() -> None:
    """The limit turns a minutes-long ETKDG run into a masked row within seconds."""
    import subprocess
    import sys

    code = (
        "from molmtd.teachers import get_teacher\n"
        "from molmtd.teachers.conformers import conformer_stats\n"
        f"X, mask = get_teacher('usrcat', embed_timeout=1).embed([{ETKDG_STALL!r}, 'CCO'])\n"
        "s = conformer_stats()\n"
        "print([bool(m) for m in mask], s['failed'], s['timed_out'])\n"
    )
    # in a subprocess: if the limit were ignored, the test fails at the timeout, not hangs
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split()[-4:] == ["[False,", "True]", "1", "1"]


def test_prefetch_in_processes_gives_the_serial_conformers() -> None:
    smiles = BATCH + HCNO
    clear_conformer_cache()
    X_serial, mask_serial = get_teacher("usrcat").embed(smiles)
    serial = {s: get_conformer(s) for s in HCNO}
    serial_stats = conformer_stats()

    clear_conformer_cache()
    n = prefetch_conformers(smiles, n_jobs=2, progress=False)
    stats = conformer_stats()
    assert n == serial_stats["generated"] == stats["generated"]
    assert stats["failed"] == serial_stats["failed"]
    assert stats["mmff_converged"] == serial_stats["mmff_converged"]
    X, mask = get_teacher("usrcat").embed(smiles)
    assert conformer_stats()["generated"] == n  # every conformer came from the prefetch
    np.testing.assert_array_equal(mask, mask_serial)
    np.testing.assert_array_equal(X, X_serial)
    for s, mol in serial.items():
        got = get_conformer(s)
        np.testing.assert_array_equal(
            got.GetConformer().GetPositions(), mol.GetConformer().GetPositions()
        )
        assert got.GetProp(MMFF_PROP) == mol.GetProp(MMFF_PROP)
    assert prefetch_conformers(smiles, n_jobs=2, progress=False) == 0  # all cached already
