"""TeacherStore: content, resume after kill -9, config hashes, float16, limits, faults, Dask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from molmtd.data.corpus import load_corpus
from molmtd.data.paths import package_file
from molmtd.store import ConfigMismatchError, StoreError, TeacherStore, build_teacher
from molmtd.teachers.base import BaseTeacher, list_teachers

TESTS_DIR = Path(__file__).resolve().parent
DESCRIPTORS = ("MolWt", "TPSA", "NumHDonors", "NumHAcceptors", "MolLogP")


# ---------------------------------------------------------------------------------------------
# small real teachers (RDKit descriptors), importable by worker processes as test_store.<Class>
# ---------------------------------------------------------------------------------------------
class DescTeacher(BaseTeacher):
    """A few RDKit 2D descriptors: a real, cheap computation."""

    name = "desc"

    def __init__(self, descriptors: Sequence[str] = DESCRIPTORS, scale: float = 1.0) -> None:
        self.descriptors = tuple(descriptors)
        self.scale = float(scale)
        self.dim = len(self.descriptors)

    @property
    def config(self) -> dict:
        return {"descriptors": list(self.descriptors), "scale": self.scale}

    def _row(self, smi: str) -> np.ndarray | None:
        from rdkit import Chem
        from rdkit.Chem import Descriptors

        mol = Chem.MolFromSmiles(smi) if smi else None
        if mol is None or mol.GetNumAtoms() == 0:
            return None
        return np.array([getattr(Descriptors, d)(mol) for d in self.descriptors]) * self.scale

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        x = np.full((len(smiles), self.dim), np.nan, dtype=np.float32)
        mask = np.zeros(len(smiles), dtype=bool)
        for i, smi in enumerate(smiles):
            row = self._row(smi)
            if row is not None:
                x[i], mask[i] = row, True
        return x, mask


class FaultyTeacher(DescTeacher):
    """Raises whenever ``poison`` is in the batch; returns Inf (mask True) for ``inf_smiles``."""

    name = "faulty"

    def __init__(self, poison: str, inf_smiles: str = "") -> None:
        super().__init__()
        self.poison = poison
        self.inf_smiles = inf_smiles

    @property
    def config(self) -> dict:
        return {**super().config, "poison": self.poison, "inf": self.inf_smiles}

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.poison in smiles:
            raise ValueError(f"poisoned molecule {self.poison}")
        x, mask = super().embed(smiles)
        for i, smi in enumerate(smiles):
            if smi == self.inf_smiles:
                x[i, 0] = np.inf
        return x, mask


class BrokenTeacher(DescTeacher):
    """Raises the same error for every batch touching ``broken`` (every batch when empty)."""

    name = "broken"

    def __init__(self, broken: Sequence[str] = ()) -> None:
        super().__init__()
        self.broken = sorted(broken)

    @property
    def config(self) -> dict:
        return {**super().config, "broken": self.broken}

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if not self.broken or set(self.broken) & set(smiles):
            raise RuntimeError("model weights missing")
        return super().embed(smiles)


class SlowTeacher(DescTeacher):
    """DescTeacher that sleeps ``delay`` seconds per call (to kill a build mid-way)."""

    name = "slow"

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        time.sleep(self.delay)
        return super().embed(smiles)


class KillingTeacher(SlowTeacher):
    """SlowTeacher that SIGKILLs its whole process group (driver and workers, like a killed
    job) once ``after`` chunks are committed in ``chunks_dir``: a kill at a known point."""

    def __init__(self, chunks_dir: str, after: int = 2) -> None:
        super().__init__()
        self.chunks_dir, self.after = chunks_dir, after

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if len(list(Path(self.chunks_dir).glob("*.json"))) >= self.after:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        return super().embed(smiles)


class CrashTeacher(DescTeacher):
    """Kills its worker process (``os._exit``) on the first ``crashes`` calls, counted in files."""

    name = "crash"

    def __init__(self, marker_dir: str, crashes: int = 1) -> None:
        super().__init__()
        self.marker_dir = marker_dir
        self.crashes = crashes

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        done = len(list(Path(self.marker_dir).glob("crash-*")))
        if done < self.crashes:
            (Path(self.marker_dir) / f"crash-{done}").touch()
            os._exit(1)  # what a segfault or the OOM killer does to a worker
        return super().embed(smiles)


class FitTeacher(DescTeacher):
    """Standardises descriptors with statistics fitted on the corpus (plus a fit nonce)."""

    name = "fitdesc"
    requires_fit = True

    def __init__(self) -> None:
        super().__init__()
        self.mean: list[float] | None = None
        self.std: list[float] | None = None
        self.nonce: int | None = None
        self.n_fit = 0

    @property
    def config(self) -> dict:
        return {"mean": self.mean, "std": self.std, "nonce": self.nonce, "n_fit": self.n_fit}

    def fit(self, smiles: Sequence[str]) -> FitTeacher:
        x, mask = super().embed(smiles)
        self.mean = x[mask].mean(0).tolist()
        self.std = (x[mask].std(0) + 1e-6).tolist()
        self.nonce = time.time_ns()  # a refit would change the config hash
        self.n_fit = len(smiles)
        return self

    def embed(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        assert self.mean is not None, "not fitted"
        x, mask = super().embed(smiles)
        return ((x - np.float32(self.mean)) / np.float32(self.std)).astype(np.float32), mask


# ---------------------------------------------------------------------------------------------
INVALID = ("not_a_smiles", "C1CC")


@pytest.fixture(scope="module")
def smiles() -> list[str]:
    """200 NCI molecules with two invalid SMILES inserted at rows 3 and 150."""
    mols = list(load_corpus(str(package_file("rdkit", "Data/NCI/first_5K.smi")), n=198))
    mols.insert(3, INVALID[0])
    mols.insert(150, INVALID[1])
    return mols


def assert_same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> None:
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(np.isnan(a[0]), np.isnan(b[0]))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6, equal_nan=True)


def test_content_equals_direct_embed(tmp_path, smiles):
    store = TeacherStore.create(tmp_path / "s", smiles, chunk_size=48)
    assert len(store) == 200 and store.n_chunks == 5
    teacher = DescTeacher()
    rec = build_teacher(store, teacher, n_jobs=1, progress=False)
    direct = teacher.embed(store.smiles)
    x, mask = store.read_all("desc")
    assert_same((x, mask), direct)
    assert x.dtype == np.float32 and x.shape == (200, 5)
    assert not mask[3] and not mask[150] and np.isnan(x[[3, 150]]).all()
    assert mask.sum() == 198
    # invalid SMILES are flagged in the index and listed in the manifest
    assert list(np.flatnonzero(~store.valid)) == [3, 150]
    m = store.manifest
    assert [(d["row"], d["smiles"]) for d in m["invalid"]] == [(3, INVALID[0]), (150, INVALID[1])]
    assert rec["coverage"] == 1.0 and rec["n_valid"] == 198 and rec["n_failed"] == 0
    assert rec["n_invalid_smiles"] == 2 and rec["status"] == "complete"
    assert m["packages"]["rdkit"] and rec["mol_per_s_per_worker"] > 0
    # random access: any order, repeats; reopened store reads the same
    idx = np.array([199, 0, 3, 57, 57, 150, 48, 47])
    re = TeacherStore.open(store.path)
    assert_same(re.read("desc", idx), (direct[0][idx], direct[1][idx]))
    assert re.teachers["desc"]["config_hash"] == teacher.config_hash
    assert re.index_of([smiles[10], "OCC", smiles[199]]).tolist() == [10, -1, 199]
    with pytest.raises(IndexError):
        re.read("desc", [200])
    with pytest.raises(KeyError):
        re.read("nope", [0])


def test_canonical_keys_and_existing_path(tmp_path):
    store = TeacherStore.create(tmp_path / "s", ["OCC", "C(C)O", "c1ccccc1"], chunk_size=2)
    assert store.smiles == ["CCO", "CCO", "c1ccccc1"]
    assert store.manifest["n_duplicate"] == 1  # kept (rows never dropped) but reported
    with pytest.raises(StoreError):
        TeacherStore.create(tmp_path / "s", ["CCO"])
    same = TeacherStore.create(tmp_path / "s", ["OCC", "C(C)O", "c1ccccc1"], exist_ok=True)
    assert same.smiles == store.smiles


def test_process_pool_equals_serial(tmp_path, smiles):
    teacher = DescTeacher()
    serial = TeacherStore.create(tmp_path / "a", smiles, chunk_size=40)
    build_teacher(serial, teacher, n_jobs=1, progress=False)
    pooled = TeacherStore.create(tmp_path / "b", smiles, chunk_size=40)
    rec = build_teacher(pooled, teacher, n_jobs=2, progress=False)
    assert_same(serial.read_all("desc"), pooled.read_all("desc"))
    assert rec["builds"][-1]["n_jobs"] == 2 and rec["chunks_done"] == 5


@pytest.mark.skipif("morgan" not in list_teachers(), reason="fingerprint teachers not present")
def test_registered_fingerprint_teachers(tmp_path, smiles):
    from molmtd.teachers import get_teacher

    store = TeacherStore.create(tmp_path / "s", smiles[:120], chunk_size=50)
    for name in ("morgan", "maccs"):
        teacher = get_teacher(name)
        rec = build_teacher(store, teacher, n_jobs=2 if name == "morgan" else 1, progress=False)
        assert_same(store.read_all(name), teacher.embed(store.smiles))
        assert rec["family"] == "fingerprint" and rec["n_valid"] == 119


def test_refuses_to_mix_configs(tmp_path, smiles):
    store = TeacherStore.create(tmp_path / "s", smiles[:60], chunk_size=32)
    build_teacher(store, DescTeacher(), progress=False)
    # same config: nothing to recompute
    rec = build_teacher(store, DescTeacher(), progress=False)
    assert rec["builds"][-1]["chunks_computed"] == 0
    other = DescTeacher(descriptors=("MolWt", "TPSA"))
    with pytest.raises(ConfigMismatchError, match="overwrite"):
        build_teacher(store, other, progress=False)
    assert store.read_all("desc")[0].shape == (60, 5)  # untouched
    rec = build_teacher(store, other, overwrite=True, progress=False)
    assert rec["dim"] == 2 and rec["config_hash"] == other.config_hash
    assert_same(store.read_all("desc"), other.embed(store.smiles))


def test_float16_storage_and_clipping(tmp_path, smiles):
    store = TeacherStore.create(tmp_path / "s", smiles[:100], dtype="float16", chunk_size=64)
    teacher = DescTeacher()
    build_teacher(store, teacher, progress=False)
    x16, mask = store.read_all("desc", dtype=None)
    assert x16.dtype == np.float16
    x, _ = store.read_all("desc")
    ref, ref_mask = teacher.embed(store.smiles)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_allclose(x, ref, rtol=1e-3, atol=1e-3, equal_nan=True)
    assert np.load(next((store.path / "teachers/desc/chunks").glob("c*[0-9].npy"))).dtype == (
        np.float16
    )
    # MolWt * 1000 overflows float16: clipped to its max and counted, never inf
    big = DescTeacher(descriptors=("MolWt",), scale=1000.0)
    big.name = "big"
    rec = build_teacher(store, big, progress=False)
    xb, mb = store.read_all("big")
    assert np.isfinite(xb[mb]).all() and xb[mb].max() == np.finfo(np.float16).max
    assert rec["n_clipped_float16"] == int((big.embed(store.smiles)[0] > 65504).sum()) > 0


def test_limit_and_coverage(tmp_path, smiles):
    store = TeacherStore.create(tmp_path / "s", smiles, chunk_size=32)
    teacher = DescTeacher()
    rec = build_teacher(store, teacher, limit=50, progress=False)
    x, mask = store.read_all("desc")
    ref = teacher.embed(store.smiles)
    assert rec["coverage"] == 50 / 200 and rec["n_covered"] == 50 and rec["limit"] == 50
    assert rec["n_valid"] == 49 and rec["chunks_done"] == 2  # row 3 is invalid
    assert not mask[50:].any() and np.isnan(x[50:]).all()
    assert_same((x[:50], mask[:50]), (ref[0][:50], ref[1][:50]))
    # raising the limit recomputes the partial chunk and adds the rest
    rec = build_teacher(store, teacher, progress=False)
    assert rec["coverage"] == 1.0 and rec["builds"][-1]["chunks_computed"] == 6
    assert_same(store.read_all("desc"), ref)


def test_dead_worker_restarts_the_pool(tmp_path, smiles):
    (tmp_path / "m1").mkdir()
    store = TeacherStore.create(tmp_path / "s", smiles[:120], chunk_size=40)
    rec = build_teacher(store, CrashTeacher(str(tmp_path / "m1")), n_jobs=2, progress=False)
    assert rec["status"] == "complete" and rec["chunks_done"] == 3
    assert_same(store.read_all("crash"), DescTeacher().embed(store.smiles))
    # a worker that dies every time: the build stops after max_pool_restarts, chunks kept
    (tmp_path / "m2").mkdir()
    other = TeacherStore.create(tmp_path / "t", smiles[:120], chunk_size=40)
    with pytest.raises(StoreError, match="worker processes died 2 times"):
        build_teacher(
            other,
            CrashTeacher(str(tmp_path / "m2"), crashes=10**6),
            n_jobs=2,
            progress=False,
            max_pool_restarts=1,
        )
    assert TeacherStore.open(other.path).manifest["teachers"]["crash"]["status"] == "interrupted"


def test_fault_handling(tmp_path, smiles):
    store = TeacherStore.create(tmp_path / "s", smiles[:100], chunk_size=32)
    poison, inf_smi = store.smiles[40], store.smiles[70]
    teacher = FaultyTeacher(poison=poison, inf_smiles=inf_smi)
    rec = build_teacher(store, teacher, n_jobs=2, progress=False)
    x, mask = store.read_all("faulty")
    ref, ref_mask = DescTeacher().embed(store.smiles)
    expected = ref_mask.copy()
    expected[[40, 70]] = False
    np.testing.assert_array_equal(mask, expected)
    assert np.isnan(x[[40, 70]]).all()
    np.testing.assert_allclose(x[expected], ref[expected], rtol=1e-6)
    failures = {f["row"]: f for f in rec["failures"]}
    assert set(failures) == {40, 70} and rec["n_failed"] == 2
    assert failures[40]["smiles"] == poison and "ValueError: poisoned" in failures[40]["error"]
    assert "non-finite" in failures[70]["error"]
    assert "poisoned" in store.chunk_meta("faulty", 1)["batch_error"]


def test_systemic_failure_is_not_committed(tmp_path, smiles):
    store = TeacherStore.create(tmp_path / "s", smiles, chunk_size=50)
    with pytest.raises(StoreError, match=r"fails on every molecule.*model weights missing"):
        build_teacher(store, BrokenTeacher(), progress=False)
    assert not list((store.path / "teachers/broken/chunks").glob("*.json"))
    # one broken chunk: the others are written, the build reports it and a rerun retries it
    other = TeacherStore.create(tmp_path / "t", smiles, chunk_size=50)
    teacher = BrokenTeacher(broken=other.smiles[50:100])
    with pytest.raises(StoreError, match="every molecule raised in 1 chunks"):
        build_teacher(other, teacher, n_jobs=2, progress=False)
    rec = TeacherStore.open(other.path).manifest["teachers"]["broken"]
    assert rec["status"] == "failed" and list(rec["systemic_errors"]) == ["1"]
    assert rec["chunks_done"] == 3 and other.chunk_meta("broken", 1) is None
    _, mask = other.read_all("broken")
    assert not mask[50:100].any() and mask[100:].sum() == 99


def test_fit_teacher_resume_uses_saved_statistics(tmp_path, smiles):
    store = TeacherStore.create(tmp_path / "s", smiles[:120], chunk_size=32)
    rec1 = build_teacher(store, FitTeacher(), limit=60, fit_n=50, progress=False)
    assert rec1["config"]["n_fit"] == 50 and rec1["requires_fit"]
    rec_small = build_teacher(
        TeacherStore.create(tmp_path / "t", smiles[:120]), FitTeacher(), limit=30, progress=False
    )
    assert (
        rec_small["config"]["n_fit"] == 29
    )  # fitted only on rows within the limit (row 3 invalid)
    # a fresh (unfitted) teacher resumes with the saved fitted one: same nonce and hash
    rec2 = build_teacher(store, FitTeacher(), fit_n=80, progress=False)  # no refit
    assert rec2["config_hash"] == rec1["config_hash"] and rec2["coverage"] == 1.0
    fitted = FitTeacher()
    fitted.__dict__.update({k: rec1["config"][k] for k in ("mean", "std", "nonce", "n_fit")})
    assert_same(store.read_all("fitdesc"), fitted.embed(store.smiles))


KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_store import KillingTeacher, SlowTeacher
from molmtd.store import TeacherStore, build_teacher

if __name__ == "__main__":
    smiles = open({smiles_file!r}).read().split("\\n")
    store = TeacherStore.create({out!r}, smiles, chunk_size=20, exist_ok=True)
    teacher = KillingTeacher({chunks!r}) if sys.argv[1:] == ["kill"] else SlowTeacher()
    build_teacher(store, teacher, n_jobs=2, progress=False)
"""


def test_resume_after_kill9(tmp_path, smiles):
    smiles_file = tmp_path / "smiles.txt"
    smiles_file.write_text("\n".join(smiles))
    out = tmp_path / "killed"
    script = tmp_path / "build.py"
    script.write_text(
        textwrap.dedent(
            KILL_SCRIPT.format(
                tests=str(TESTS_DIR), smiles_file=str(smiles_file), out=str(out),
                chunks=str(out / "teachers" / "slow" / "chunks"),
            )
        )
    )
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR.parent)}
    # the build kills its own process group once two chunks are committed
    proc = subprocess.run([sys.executable, str(script), "kill"], start_new_session=True, env=env,
                          timeout=120)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL
    chunks = out / "teachers" / "slow" / "chunks"
    done_before = sorted(p.name for p in chunks.glob("*.json"))
    assert 2 <= len(done_before) < 10, done_before
    mtimes = {p: (chunks / p).stat().st_mtime_ns for p in done_before}
    partial = TeacherStore.open(out)
    assert partial.teachers["slow"]["status"] == "building"
    _, m_part = partial.read_all("slow")
    assert m_part.sum() < 198  # some rows not yet computed read as masked NaN

    # rerun the same command: only missing chunks are computed
    subprocess.run([sys.executable, str(script)], check=True, env=env, timeout=120)
    resumed = TeacherStore.open(out)
    assert {p: (chunks / p).stat().st_mtime_ns for p in done_before} == mtimes
    rec = resumed.teachers["slow"]
    build = resumed.manifest["teachers"]["slow"]["builds"][-1]
    assert build["chunks_computed"] == 10 - len(done_before)

    reference = TeacherStore.create(tmp_path / "ref", smiles, chunk_size=20)
    ref_rec = build_teacher(reference, SlowTeacher(), n_jobs=1, progress=False)
    assert_same(resumed.read_all("slow"), reference.read_all("slow"))
    for key in ("coverage", "n_covered", "n_valid", "n_failed", "config_hash", "status"):
        assert rec[key] == ref_rec[key], key
    assert not list(chunks.glob(".*tmp*"))  # temp files of the killed run were cleaned
    assert (
        json.loads((out / "manifest.json").read_text())["invalid"]
        == (reference.manifest["invalid"])
    )


def test_dask_build_equals_process_pool(tmp_path, smiles):
    distributed = pytest.importorskip("distributed")
    teacher = FaultyTeacher(poison=smiles[10])
    pool = TeacherStore.create(tmp_path / "pool", smiles, chunk_size=50)
    pool_rec = build_teacher(pool, teacher, n_jobs=2, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dstore = TeacherStore.create(tmp_path / "dask", smiles, chunk_size=50)
        rec = build_teacher(dstore, teacher, executor="dask", client=client, progress=False)
        # connecting by scheduler address (the CLI's --scheduler) writes the same store format
        rec2 = build_teacher(
            dstore, DescTeacher(), executor="dask", scheduler=cluster.scheduler_address,
            limit=60, progress=False,
        )  # fmt: skip
    assert rec2["coverage"] == 60 / 200 and rec2["builds"][-1]["executor"] == "dask"
    ref = DescTeacher().embed(dstore.smiles[:60])
    assert_same(dstore.read("desc", np.arange(60)), ref)
    assert_same(dstore.read_all("faulty"), pool.read_all("faulty"))
    for key in ("coverage", "n_valid", "n_failed", "failures", "config_hash"):
        assert rec[key] == pool_rec[key], key
    assert rec["builds"][-1]["executor"] == "dask" and rec["n_failed"] == 1
