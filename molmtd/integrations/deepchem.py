"""molmtd embeddings as a DeepChem featurizer.

>>> import deepchem as dc
>>> from molmtd.integrations.deepchem import MolmtdFeaturizer
>>> loader = dc.data.CSVLoader(["y"], feature_field="smiles",
...                            featurizer=MolmtdFeaturizer(on_error="skip"))  # doctest: +SKIP

:class:`MolmtdFeaturizer` is a ``dc.feat.MolecularFeaturizer`` (so DeepChem's loaders,
``DiskDataset`` and the ``dc.molnet.load_*`` functions accept it) and a thin shell over
:class:`molmtd.featurizer.Featurizer`: one call embeds the whole batch, not one molecule at a
time, and gives the Featurizer's rows.

Invalid molecules, by ``on_error``:

- ``"nan"`` (default): a NaN row in place and ``valid_mask_`` False there, molmtd's own
  contract; the array keeps one row per input.
- ``"skip"``: an empty array for that molecule, DeepChem's own convention, so its loaders
  leave the molecule out of the dataset (and log it) and the dataset's ``ids`` say which rows
  remain; ``featurize`` then returns an object array.
- ``"raise"``: an error naming the input's index and SMILES.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np

try:
    from deepchem.feat import MolecularFeaturizer
except ImportError as err:  # pragma: no cover - deepchem is a core dependency
    raise ImportError("molmtd.integrations.deepchem needs deepchem: pip install deepchem") from err

__all__ = ["MolmtdFeaturizer"]

log = logging.getLogger(__name__)


class MolmtdFeaturizer(MolecularFeaturizer):
    """A molmtd student as a DeepChem ``MolecularFeaturizer``.

    Parameters
    ----------
    model
        Shipped model name or student folder (as for :class:`~molmtd.featurizer.Featurizer`).
    on_error
        ``"nan"`` | ``"skip"`` | ``"raise"`` (see the module docstring).
    **featurizer_kwargs
        Other :class:`~molmtd.featurizer.Featurizer` arguments (``device``, ``batch_size``,
        ``n_jobs``, ``precision``, ``standardize``, ...).

    Attributes
    ----------
    valid_mask_ : ndarray of bool
        After :meth:`featurize`: True where the input was embedded.
    """

    def __init__(
        self,
        model: str | Path = "default",
        on_error: Literal["nan", "skip", "raise"] = "nan",
        **featurizer_kwargs: Any,
    ) -> None:
        from molmtd.featurizer import Featurizer

        if on_error not in ("nan", "skip", "raise"):
            raise ValueError(f"on_error must be 'nan', 'skip' or 'raise', got {on_error!r}")
        super().__init__()
        self.model = model
        self.on_error = on_error
        self.featurizer = Featurizer(
            model=model, on_error="raise" if on_error == "raise" else "nan", **featurizer_kwargs
        )

    def featurize(self, datapoints: Any, log_every_n: int = 1000, **kwargs: Any) -> np.ndarray:
        """Embed SMILES strings or RDKit molecules (one string: one molecule), in one batch.

        Returns
        -------
        float32 array [N, dim] (``on_error="nan"``), or an object array of N rows with empty
        arrays for invalid molecules (``on_error="skip"``, only when there are any).
        """
        if isinstance(datapoints, str) or not hasattr(datapoints, "__iter__"):
            datapoints = [datapoints]
        items = list(datapoints)
        rows = self.featurizer.transform(items)
        self.valid_mask_ = self.featurizer.valid_mask_
        bad = np.flatnonzero(~self.valid_mask_)
        if bad.size:
            log.warning(
                "molmtd: %d of %d molecules are invalid (first at index %d); %s",
                bad.size, len(items), int(bad[0]),
                "left out by DeepChem's loaders" if self.on_error == "skip" else "NaN rows",
            )
        if self.on_error != "skip" or not bad.size:
            return rows
        out = np.empty(len(items), dtype=object)
        for i, row in enumerate(rows):
            out[i] = row if self.valid_mask_[i] else np.array([])
        return out

    def _featurize(self, datapoint: Any, **kwargs: Any) -> np.ndarray:
        """One molecule (DeepChem's per-molecule hook; :meth:`featurize` batches instead)."""
        return self.featurize([datapoint])[0]
