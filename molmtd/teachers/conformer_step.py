"""The conformer step shared by the 3D teachers: generation, a shared cache, prefetch.

Role: turn a SMILES into one deterministic conformer and share it, so that the 3D teachers
of :mod:`molmtd.teachers.conformers` each featurise the same geometry and generate it once.
Imports: NumPy, RDKit (lazily) and :func:`~molmtd.utils.parse_mol`; never a
teacher module (the teachers import this).

Conformer step (:func:`get_conformer`): parse, canonicalise (so equivalent SMILES give the
same conformer), add hydrogens, embed with ETKDGv3 at a fixed seed (one thread:
deterministic); if that fails, retry once with random starting coordinates; then MMFF94
minimisation. Where MMFF converges within ``mmff_max_iters`` the minimised geometry is used;
where it does not converge, or MMFF has no parameters for the molecule, the ETKDG geometry is
kept and the outcome is recorded (``mol.GetProp("molmtd_mmff")``: ``converged``,
``not_converged``, ``no_params`` or ``disabled``). A molecule whose embedding fails is masked
by every 3D teacher (status ``conformer_failed``).

Shared conformers: results are kept in a process-wide LRU cache (:data:`CONFORMER_CACHE`,
default 2,048 molecules) keyed by canonical SMILES and the conformer parameters. Several 3D
teachers embedding the same chunk in one worker therefore generate each conformer once, as
long as the chunk is no larger than the cache (:func:`set_conformer_cache_size`). Cached
molecules are shared: teachers must not modify them. Failures are cached too.
:func:`prefetch_conformers` fills the cache from several processes; :func:`conformer_stats`
gives process-wide counters (requests, cache hits, generated, failures, MMFF outcomes).
:class:`ConformerMixin` is how a teacher asks for its conformer.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from molmtd.utils import parse_mol

MMFF_PROP = "molmtd_mmff"
MMFF_OUTCOMES = ("converged", "not_converged", "no_params", "disabled")


# ---------------------------------------------------------------------------------------
# Conformer generation and the shared cache
# ---------------------------------------------------------------------------------------
def generate_conformer(
    mol: Any,
    seed: int = 42,
    mmff: bool = True,
    mmff_max_iters: int = 2000,
    embed_timeout: int = 0,
) -> Any | None:
    """One ETKDGv3 (+MMFF) conformer for ``mol`` (hydrogens are added to a copy).

    Parameters
    ----------
    mol
        RDKit ``Mol`` (not modified).
    seed
        ETKDG random seed; fixed seed and one thread make the result deterministic.
    mmff
        Minimise with MMFF94 (kept only where it converges).
    mmff_max_iters
        MMFF iteration budget.
    embed_timeout
        Seconds ETKDG may spend on one attempt (RDKit's ``EmbedParameters.timeout``; 0: no
        limit). A few molecules make ETKDG run for tens of minutes; with a limit they fail
        (masked) instead. Unlike the other parameters the outcome then depends on the
        machine's speed, for molecules near the limit only.

    Returns
    -------
    Mol with explicit H and one conformer (property ``molmtd_mmff`` records the MMFF
    outcome), or None when embedding failed.
    """
    from rdkit import Chem
    from rdkit.Chem import rdDistGeom, rdForceFieldHelpers

    molh = Chem.AddHs(mol)
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = int(seed)
    params.numThreads = 1
    if embed_timeout > 0:
        params.timeout = int(embed_timeout)
    cid = rdDistGeom.EmbedMolecule(molh, params)
    if cid < 0:
        params.useRandomCoords = True
        cid = rdDistGeom.EmbedMolecule(molh, params)
    if cid < 0:
        return None
    outcome = "disabled"
    if mmff:
        props = rdForceFieldHelpers.MMFFGetMoleculeProperties(molh)
        if props is None:
            outcome = "no_params"
        else:
            ff = rdForceFieldHelpers.MMFFGetMoleculeForceField(molh, props, confId=cid)
            start = molh.GetConformer(cid).GetPositions()
            if ff is None:
                outcome = "no_params"
            elif ff.Minimize(maxIts=int(mmff_max_iters)) == 0:
                outcome = "converged"
                pos = np.asarray(ff.Positions(), dtype=np.float64).reshape(-1, 3)
                _set_positions(molh, cid, pos)
            else:
                outcome = "not_converged"
                _set_positions(molh, cid, start)
    molh.SetProp(MMFF_PROP, outcome)
    return molh


def _set_positions(mol: Any, cid: int, pos: np.ndarray) -> None:
    from rdkit.Geometry import Point3D

    conf = mol.GetConformer(cid)
    for i, (x, y, z) in enumerate(pos):
        conf.SetAtomPosition(i, Point3D(float(x), float(y), float(z)))


class ConformerCache:
    """LRU cache of conformers keyed by (canonical SMILES, conformer parameters)."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = int(maxsize)
        self._data: OrderedDict[tuple[Any, ...], Any | None] = OrderedDict()
        self.stats: dict[str, int] = {}
        self.reset_stats()

    def reset_stats(self) -> None:
        self.stats = {
            "requests": 0,
            "hits": 0,
            "generated": 0,
            "failed": 0,
            "timed_out": 0,
            **{f"mmff_{k}": 0 for k in MMFF_OUTCOMES},
        }

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def resize(self, maxsize: int) -> None:
        """Hold at most ``maxsize`` conformers, evicting the least recently used."""
        self.maxsize = int(maxsize)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def get(
        self, mol: Any, seed: int, mmff: bool, mmff_max_iters: int, embed_timeout: int = 0
    ) -> Any | None:
        """Conformer of ``mol`` (canonicalised first), generated on a miss.

        A failure that took at least ``embed_timeout`` seconds is counted as ``timed_out``.
        """
        from rdkit import Chem

        canonical = Chem.MolToSmiles(mol)
        key = self.key(canonical, seed, mmff, mmff_max_iters, embed_timeout)
        self.stats["requests"] += 1
        if key in self._data:
            self.stats["hits"] += 1
            self._data.move_to_end(key)
            return self._data[key]
        confmol, elapsed = _generate_timed(canonical, seed, mmff, mmff_max_iters, embed_timeout)
        self.store(key, confmol, elapsed)
        return confmol

    @staticmethod
    def key(
        canonical: str, seed: int, mmff: bool, mmff_max_iters: int, embed_timeout: int = 0
    ) -> tuple[Any, ...]:
        """The cache key of a canonical SMILES under these conformer parameters."""
        return (canonical, int(seed), bool(mmff), int(mmff_max_iters), int(embed_timeout))

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        return key in self._data

    def store(self, key: tuple[Any, ...], confmol: Any | None, elapsed: float) -> None:
        """Keep a freshly generated conformer (None: failed) and count it.

        A failure that took at least the key's ``embed_timeout`` is counted as ``timed_out``.
        """
        embed_timeout = key[-1]
        self.stats["generated"] += 1
        if confmol is None:
            self.stats["failed"] += 1
            if embed_timeout > 0 and elapsed >= embed_timeout:
                self.stats["timed_out"] += 1
        else:
            self.stats[f"mmff_{confmol.GetProp(MMFF_PROP)}"] += 1
        self._data[key] = confmol
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)


def _generate_timed(
    canonical: str, seed: int, mmff: bool, mmff_max_iters: int, embed_timeout: int
) -> tuple[Any | None, float]:
    """(conformer or None, seconds) of a canonical SMILES, generated from that SMILES so the
    atom order does not depend on how the input was written."""
    from rdkit import Chem

    start = time.perf_counter()
    confmol = None
    canon_mol = Chem.MolFromSmiles(canonical)
    if canon_mol is not None:
        try:
            confmol = generate_conformer(canon_mol, seed, mmff, mmff_max_iters, embed_timeout)
        except Exception:  # RDKit raises on a few pathological inputs
            confmol = None
    return confmol, time.perf_counter() - start


#: The process-wide conformer cache shared by all 3D teachers.
CONFORMER_CACHE = ConformerCache()


def get_conformer(
    smiles: str,
    seed: int = 42,
    mmff: bool = True,
    mmff_max_iters: int = 2000,
    embed_timeout: int = 0,
) -> Any | None:
    """Cached conformer (Mol with H) for a SMILES; None if invalid or embedding failed."""
    mol = parse_mol(smiles)
    if mol is None:
        return None
    return CONFORMER_CACHE.get(mol, seed, mmff, mmff_max_iters, embed_timeout)


def conformer_stats() -> dict[str, int]:
    """Process-wide conformer counters: requests, hits, generated, failed (of which
    timed_out), mmff_<outcome>."""
    return {**CONFORMER_CACHE.stats, "cached": len(CONFORMER_CACHE)}


def set_conformer_cache_size(maxsize: int) -> None:
    """Resize the shared cache (make it at least the store's chunk size)."""
    CONFORMER_CACHE.resize(maxsize)


_DEFAULT_EMBED_TIMEOUT = 0


def set_default_embed_timeout(seconds: int) -> None:
    """ETKDG time limit for 3D teachers constructed later without ``embed_timeout``.

    0 (the initial value) means no limit. A teacher records its limit in its config (and so
    in its config hash) when constructed, so changing this default never changes a teacher
    that already exists. Used by drivers that build teachers from names
    (``benchmarks/suites/tdc_3d_teachers.py --embed-timeout``).
    """
    global _DEFAULT_EMBED_TIMEOUT
    if seconds < 0:
        raise ValueError(f"embed_timeout must be >= 0 seconds, got {seconds}")
    _DEFAULT_EMBED_TIMEOUT = int(seconds)


def _pickle_options() -> int:
    """Keep the MMFF outcome property and full-precision coordinates across processes."""
    from rdkit import Chem

    opts = Chem.PropertyPickleOptions
    return int(opts.AllProps | opts.CoordsAsDouble)


def _generate_for_prefetch(
    job: tuple[str, int, bool, int, int],
) -> tuple[str, bytes | None, float]:
    """Worker of :func:`prefetch_conformers`: (canonical SMILES, conformer binary, seconds)."""
    confmol, elapsed = _generate_timed(*job)
    binary = None if confmol is None else confmol.ToBinary(_pickle_options())
    return job[0], binary, elapsed


def _prefetch_todo(smiles: Sequence[str], params: tuple[int, bool, int, int]) -> list[str]:
    """Canonical SMILES of ``smiles`` to prefetch: valid, not cached yet, each once, in order."""
    from rdkit import Chem

    cache = CONFORMER_CACHE
    todo: list[str] = []
    seen: set[str] = set()
    for smi in smiles:
        mol = parse_mol(smi)
        if mol is None:
            continue
        canonical = Chem.MolToSmiles(mol)
        if canonical in seen or cache.key(canonical, *params) in cache:
            continue
        seen.add(canonical)
        todo.append(canonical)
    return todo


def _prefetch_results(
    jobs: list[tuple[str, int, bool, int, int]], n_jobs: int
) -> Iterator[tuple[str, bytes | None, float]]:
    """:func:`_generate_for_prefetch` of each job, in order, computed in ``n_jobs`` processes."""
    if n_jobs <= 1:
        yield from map(_generate_for_prefetch, jobs)
    elif jobs:
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the parent may hold torch/OpenMP threads that a fork would copy
        # mid-state.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=int(n_jobs), mp_context=context) as pool:
            # Small chunks: a few molecules take minutes, and one slow chunk must not hold
            # back a worker's whole share.
            yield from pool.map(_generate_for_prefetch, jobs, chunksize=4)


def prefetch_conformers(
    smiles: Sequence[str],
    n_jobs: int = 2,
    seed: int = 42,
    mmff: bool = True,
    mmff_max_iters: int = 2000,
    embed_timeout: int = 0,
    progress: bool = True,
) -> int:
    """Generate the conformers of ``smiles`` in ``n_jobs`` processes into the shared cache.

    The 3D teachers then find every conformer in :data:`CONFORMER_CACHE` instead of
    generating them one by one in this process. Each worker runs the same
    :func:`generate_conformer` at the same seed with one ETKDG thread, so the geometries are
    those a serial run gives (molecules near ``embed_timeout`` aside, as there). The counters
    of :func:`conformer_stats` count the work as if it had been done here. Invalid SMILES and
    molecules already cached are skipped; the cache must be large enough to hold them all
    (:func:`set_conformer_cache_size`), or the earliest are evicted.

    Returns
    -------
    Number of conformers generated (failures included).
    """
    from rdkit import Chem

    cache = CONFORMER_CACHE
    params = (int(seed), bool(mmff), int(mmff_max_iters), int(embed_timeout))
    todo = _prefetch_todo(smiles, params)
    if len(todo) > cache.maxsize:
        warnings.warn(
            f"prefetching {len(todo)} conformers into a cache of {cache.maxsize}: the "
            "earliest will be evicted (set_conformer_cache_size)",
            stacklevel=2,
        )
    jobs = [(c, *params) for c in todo]
    bar = None
    if progress and jobs:
        from molmtd.utils import progress_bar as tqdm

        bar = tqdm(total=len(jobs), desc="conformers", unit="mol")
    # closing: an error here shuts the pool down at once, as a `with` block around it would
    with contextlib.closing(_prefetch_results(jobs, n_jobs)) as results:
        for canonical, binary, elapsed in results:
            confmol = None if binary is None else Chem.Mol(binary)
            cache.store(cache.key(canonical, *params), confmol, elapsed)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return len(jobs)


def clear_conformer_cache() -> None:
    """Empty the shared cache and reset its counters."""
    CONFORMER_CACHE.clear()
    CONFORMER_CACHE.reset_stats()


# ---------------------------------------------------------------------------------------
# Shared 3D teacher machinery
# ---------------------------------------------------------------------------------------
class ConformerMixin:
    """Makes a :class:`MolTeacher` featurise the shared conformer instead of the 2D mol.

    Call :meth:`_init_conformer` from ``__init__``. Subclasses may override
    :meth:`_reject` to refuse molecules before any conformer work.
    """

    reject_statuses: tuple[str, ...] = ("conformer_failed",)
    conformer_params: dict[str, Any]

    def _init_conformer(
        self, seed: int, mmff: bool, mmff_max_iters: int, embed_timeout: int | None = None
    ) -> None:
        if embed_timeout is None:
            embed_timeout = _DEFAULT_EMBED_TIMEOUT
        if embed_timeout < 0:
            raise ValueError(f"embed_timeout must be >= 0 seconds, got {embed_timeout}")
        self.conformer_params = {
            "method": "ETKDGv3+MMFF94" if mmff else "ETKDGv3",
            "seed": int(seed),
            "mmff": bool(mmff),
            "mmff_max_iters": int(mmff_max_iters),
        }
        # Only a set limit enters the config: teachers without one keep the hashes that
        # built stores and embedding caches were written under.
        if embed_timeout > 0:
            self.conformer_params["embed_timeout"] = int(embed_timeout)

    def _reject(self, mol: Any) -> str | None:
        return None

    def _mol_from_smiles(self, smiles: str) -> tuple[Any | None, str]:
        mol = parse_mol(smiles)
        if mol is None:
            return None, "invalid_smiles"
        reason = self._reject(mol)
        if reason is not None:
            return None, reason
        p = self.conformer_params
        confmol = CONFORMER_CACHE.get(
            mol, p["seed"], p["mmff"], p["mmff_max_iters"], p.get("embed_timeout", 0)
        )
        if confmol is None:
            return None, "conformer_failed"
        return confmol, "ok"

    def _report_mols(self, mols: list[Any]) -> dict[str, Any]:
        counts = dict.fromkeys(MMFF_OUTCOMES, 0)
        for mol in mols:
            if mol is not None:
                counts[mol.GetProp(MMFF_PROP)] += 1
        return {f"n_mmff_{k}": v for k, v in counts.items()}

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "conformer": self.conformer_params}  # type: ignore[misc]
