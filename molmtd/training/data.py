"""Where the trainer gets raw items and teacher targets from.

A *target source* pairs row ``i`` of a corpus (a SMILES, a text, an image) with the
teachers' embeddings of that row and their validity masks. Two implementations:

- :class:`ArrayTargets`: everything in memory (text and vision experiments, tests);
- :class:`StoreTargets`: a :class:`molmtd.store.TeacherStore` (memory-mapped reads).

:class:`BatchDataset` turns lists of row indices into ready batches (``collate`` of the raw
items, targets, masks) inside DataLoader workers; :class:`EpochBatches` yields the lists of
the current epoch (seeded shuffle, per-rank shard, resumable mid-epoch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from molmtd.backbones.batching import to_device  # noqa: F401  (the trainer's batches)


@runtime_checkable
class TargetSource(Protocol):
    """Rows of raw items with per-teacher targets.

    Attributes
    ----------
    teacher_dims
        ``{teacher: embedding width}``.
    teacher_info
        ``{teacher: {"dim": ..., "config_hash": ..., ...}}`` recorded in checkpoints.
    """

    teacher_dims: dict[str, int]
    teacher_info: dict[str, dict[str, Any]]

    def __len__(self) -> int: ...

    def items(self, indices: np.ndarray) -> list[Any]:
        """Raw items (SMILES, texts, images) of rows ``indices``."""
        ...

    def get(self, indices: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``({teacher: float32 [n, d_k]}, {teacher: bool [n]})`` for rows ``indices``."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON description of the data (recorded in checkpoints)."""
        ...


class ArrayTargets:
    """In-memory target source.

    Parameters
    ----------
    items
        Raw items, one per row (list of SMILES/texts, or an array of images ``[N, ...]``).
    targets
        ``{teacher: array [N, d_k]}``.
    masks
        Optional ``{teacher: bool [N]}``; default: rows with finite targets are valid.
    teacher_info
        Optional metadata per teacher (e.g. ``config_hash``) recorded in checkpoints.
    name
        Free-text description recorded in checkpoints.
    """

    def __init__(
        self,
        items: Sequence[Any] | np.ndarray,
        targets: Mapping[str, np.ndarray],
        masks: Mapping[str, np.ndarray] | None = None,
        teacher_info: Mapping[str, Mapping[str, Any]] | None = None,
        name: str = "in-memory",
    ) -> None:
        if not targets:
            raise ValueError("targets is empty: need at least one teacher")
        self._items = items
        n = len(items)
        self._targets: dict[str, np.ndarray] = {}
        self._masks: dict[str, np.ndarray] = {}
        for k, t in targets.items():
            t = np.asarray(t, dtype=np.float32)
            if t.ndim != 2 or t.shape[0] != n:
                raise ValueError(f"teacher {k!r}: targets must have shape [{n}, d], got {t.shape}")
            self._targets[k] = t
            m = (
                np.isfinite(t).all(1)
                if masks is None or k not in masks
                else np.asarray(masks[k], bool)
            )
            if m.shape != (n,):
                raise ValueError(f"teacher {k!r}: mask must have shape [{n}], got {m.shape}")
            self._masks[k] = m
        self.teacher_dims = {k: int(t.shape[1]) for k, t in self._targets.items()}
        info = dict(teacher_info or {})
        self.teacher_info = {
            k: {"dim": d, **dict(info.get(k, {}))} for k, d in self.teacher_dims.items()
        }
        self.name = name

    def __len__(self) -> int:
        return len(self._items)

    def items(self, indices: np.ndarray) -> list[Any]:
        if isinstance(self._items, np.ndarray):
            return list(self._items[indices])
        return [self._items[int(i)] for i in indices]

    def get(self, indices: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        return (
            {k: t[indices] for k, t in self._targets.items()},
            {k: m[indices] for k, m in self._masks.items()},
        )

    def describe(self) -> dict[str, Any]:
        return {"source": self.name, "n_rows": len(self)}


class StoreTargets:
    """Target source backed by a :class:`molmtd.store.TeacherStore` (memory-mapped).

    Parameters
    ----------
    store
        An open ``TeacherStore`` or the path of one.
    teachers
        Subset of the store's teachers to distil from (default: all).
    """

    def __init__(self, store: Any, teachers: Sequence[str] | None = None) -> None:
        if isinstance(store, (str, bytes)) or hasattr(store, "__fspath__"):
            from molmtd.store import TeacherStore

            self.path = str(store)
            store = TeacherStore.open(store)
        else:
            self.path = str(getattr(store, "path", getattr(store, "root", "")))
        self.store = store
        available = dict(store.teachers)
        names = list(available) if teachers is None else list(teachers)
        unknown = [t for t in names if t not in available]
        if unknown:
            raise KeyError(f"teachers {unknown} are not in the store; it has {sorted(available)}")
        if not names:
            raise ValueError("the store holds no teachers")
        self.teacher_info = {
            k: {kk: _jsonable(v) for kk, v in dict(available[k]).items()} for k in names
        }
        self.teacher_dims = {k: int(available[k]["dim"]) for k in names}
        self._smiles = store.smiles

    def __len__(self) -> int:
        return len(self.store)

    def items(self, indices: np.ndarray) -> list[Any]:
        return [self._smiles[int(i)] for i in indices]

    def get(self, indices: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        indices = np.asarray(indices, dtype=np.int64)
        targets, masks = {}, {}
        for k in self.teacher_dims:
            targets[k], masks[k] = self.store.read(k, indices, dtype=np.float32)
        return targets, masks

    def describe(self) -> dict[str, Any]:
        corpus = self.store.manifest.get("corpus") or {}
        return {
            "source": "teacher_store",
            "store": self.path,
            "n_rows": len(self),
            "standardize": corpus.get("standardize", "none"),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def split_indices(
    n: int, val_fraction: float, seed: int, max_val: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/validation split of ``range(n)``: ``(train, val)``, both sorted."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    perm = np.random.default_rng([seed, 7919]).permutation(n)
    n_val = round(n * val_fraction)
    if max_val is not None:
        n_val = min(n_val, max_val)
    if val_fraction > 0 and n_val == 0 and n > 1:
        n_val = 1
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


class EpochBatches:
    """Index lists of one epoch for one rank: seeded shuffle, global batches, rank shard.

    Global batch ``b`` of epoch ``e`` is ``perm_e[b * B:(b + 1) * B]`` with
    ``perm_e = permutation(train, seed=(seed, e))``; rank ``r`` of ``W`` takes the ``r``-th
    contiguous slice of ``B / W`` rows, so the union over ranks equals the single-process
    batch. The last incomplete global batch is dropped (equal shards for DDP).
    """

    def __init__(
        self,
        indices: np.ndarray,
        global_batch: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
        drop_last: bool = True,
    ) -> None:
        if global_batch % world_size:
            raise ValueError(
                f"batch size {global_batch} is not divisible by world size {world_size}"
            )
        self.indices = np.asarray(indices, dtype=np.int64)
        self.global_batch = global_batch
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.epoch = 0
        self.start = 0

    def __len__(self) -> int:
        """Number of batches per epoch (ignores ``start``)."""
        n = len(self.indices) // self.global_batch
        if not self.drop_last and len(self.indices) % self.global_batch:
            n += 1
        return n

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select the epoch and skip its first ``start`` batches (resume mid-epoch)."""
        self.epoch = epoch
        self.start = start

    def batch(self, b: int, order: np.ndarray) -> np.ndarray:
        rows = order[b * self.global_batch : (b + 1) * self.global_batch]
        per_rank = -(-len(rows) // self.world_size)
        return rows[self.rank * per_rank : (self.rank + 1) * per_rank]

    def __iter__(self):
        if self.shuffle:
            order = self.indices[
                np.random.default_rng([self.seed, self.epoch]).permutation(len(self.indices))
            ]
        else:
            order = self.indices
        for b in range(self.start, len(self)):
            rows = self.batch(b, order)
            if len(rows):  # a rank's share of a short last (validation) batch can be empty
                yield rows


class BatchDataset(torch.utils.data.Dataset):
    """Map-style dataset whose items are whole batches (index lists from a batch sampler).

    Use with ``DataLoader(ds, batch_size=None, sampler=EpochBatches(...))``; workers run
    ``collate`` on the raw items and read the targets, so featurisation and store reads run
    in parallel with training.
    """

    def __init__(self, source: TargetSource, collate: Callable[[list[Any]], Any]) -> None:
        self.source = source
        self.collate = collate

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(
        self, indices: np.ndarray
    ) -> tuple[Any, dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor]:
        indices = np.asarray(indices, dtype=np.int64)
        items = self.source.items(indices)
        try:
            batch = self.collate(items)
        except ValueError as err:
            raise ValueError(
                f"{err} (corpus rows of this batch: {indices[:8].tolist()}...)"
            ) from err
        targets, masks = self.source.get(indices)
        return (
            batch,
            {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in targets.items()},
            {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in masks.items()},
            torch.from_numpy(indices),
        )
