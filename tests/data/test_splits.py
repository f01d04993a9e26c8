"""Split invariants: TDC scaffold split (exact procedure), OGB scaffold split, random split."""

from __future__ import annotations

from collections import defaultdict
from random import Random

import numpy as np
import pandas as pd
import pytest

from molmtd.data.paths import shared_data_dir
from molmtd.data.splits import (
    murcko_scaffold,
    ogb_scaffold_split,
    random_split,
    tdc_scaffold_split,
    unsanitized_scaffold,
)

DATA = shared_data_dir()
needs_data = pytest.mark.skipif(DATA is None, reason="shared benchmark data not available")


@pytest.fixture(scope="module")
def caco2_train_val() -> list[str]:
    assert DATA is not None
    return pd.read_csv(DATA / "tdc_admet_group/caco2_wang/train_val.csv")["Drug"].tolist()


def test_tdc_split_matches_procedure_on_toy_set():
    # 6 scaffold groups, first-appearance order: benzene, pyridine, cyclohexane, none
    # (acyclic -> ""), naphthalene, thiophene. Expected: TDC shuffles the list of groups
    # with Random(seed) and fills train greedily up to int(n * 0.875).
    smiles = [
        "c1ccccc1C",
        "c1ccncc1",
        "c1ccccc1O",
        "C1CCCCC1N",
        "CCO",
        "CCN",
        "c1ccc2ccccc2c1",
        "c1ccsc1",
        "c1ccccc1N",
        "c1ccncc1C",
        "CCCC",
        "c1ccsc1C",
    ]
    for seed in (1, 2, 3):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(smiles):
            groups[murcko_scaffold(s)].append(i)
        order = list(groups.values())
        Random(seed).shuffle(order)
        train_size = int(len(smiles) * 0.875)
        exp_train, exp_valid = [], []
        for g in order:
            (exp_train if len(exp_train) + len(g) <= train_size else exp_valid).extend(g)
        out = tdc_scaffold_split(smiles, seed)
        assert sorted(out["train"].tolist()) == sorted(exp_train)
        assert sorted(out["valid"].tolist()) == sorted(exp_valid)
        assert len(out["test"]) == 0


def test_tdc_split_omits_unparsable_rows():
    out = tdc_scaffold_split(["c1ccccc1", "not a smiles", "CCO", "C1CC1"], seed=1)
    assert out["omitted"].tolist() == [1]
    assert sorted([*out["train"], *out["valid"]]) == [0, 2, 3]


def test_tdc_split_keeps_unsanitizable_rows_when_asked():
    # pentavalent N: parses without sanitisation only (solubility_aqsoldb has two such rows)
    smiles = ["c1ccccc1", "CC1=CC=C[NH+2]([O-])[CH-]1", "not a smiles",
              "O=C(O)C1=C[NH+2]([O-])[CH-]C=C1", "CCO"]  # fmt: skip
    assert tdc_scaffold_split(smiles, seed=1)["omitted"].tolist() == [1, 2, 3]
    out = tdc_scaffold_split(smiles, seed=1, frac=(0.4, 0.2, 0.4), unsanitizable="unsanitized")
    assert out["omitted"].tolist() == [2]
    assert unsanitized_scaffold(smiles[1]) == unsanitized_scaffold(smiles[3]) is not None
    parts = [set(out[k].tolist()) for k in ("train", "valid", "test")]
    assert sum(1 in p and 3 in p for p in parts) == 1  # one scaffold set, never split apart


@needs_data
def test_tdc_split_fractions_deterministic_disjoint(caco2_train_val):
    smiles = caco2_train_val
    n = len(smiles)
    splits = {}
    for seed in (1, 2):
        a = tdc_scaffold_split(smiles, seed)
        b = tdc_scaffold_split(smiles, seed)
        assert np.array_equal(a["train"], b["train"]) and np.array_equal(a["valid"], b["valid"])
        tr, va = a["train"], a["valid"]
        assert len(np.intersect1d(tr, va)) == 0
        assert len(tr) + len(va) + len(a["omitted"]) == n
        # greedy fill never exceeds int(0.875 n) and comes close to it
        assert int(0.875 * n) - 25 <= len(tr) <= int(0.875 * n)
        scaf_tr = {murcko_scaffold(smiles[i]) for i in tr}
        scaf_va = {murcko_scaffold(smiles[i]) for i in va}
        assert not scaf_tr & scaf_va
        splits[seed] = set(va.tolist())
    assert splits[1] != splits[2]


def test_ogb_scaffold_split_disjoint_and_sorted_by_size():
    base = ["c1ccccc1" + s for s in ["C", "O", "N", "Cl", "F", "Br", "CC", "CO"]]
    smiles = [*base, "c1ccncc1C", "c1ccncc1O", "C1CCCCC1C", "c1ccsc1C", "CCO", "CCN"]
    out = ogb_scaffold_split(smiles, frac=(0.6, 0.2, 0.2))
    parts = [set(out[k].tolist()) for k in ("train", "valid", "test")]
    assert sum(len(p) for p in parts) == len(smiles)
    assert set.union(*parts) == set(range(len(smiles)))
    scafs = [{murcko_scaffold(smiles[i], include_chirality=True) for i in p} for p in parts]
    assert not scafs[0] & scafs[1] and not scafs[0] & scafs[2] and not scafs[1] & scafs[2]
    assert set(range(8)) <= parts[0]  # the largest scaffold set (benzene) goes to train
    assert (
        ogb_scaffold_split(smiles, frac=(0.6, 0.2, 0.2))["valid"].tolist() == out["valid"].tolist()
    )


def test_random_split_partitions_all_rows():
    out = random_split(101, seed=3)
    allidx = np.concatenate([out["train"], out["valid"], out["test"]])
    assert sorted(allidx.tolist()) == list(range(101))
    assert (len(out["train"]), len(out["valid"])) == (80, 10)
    assert not np.array_equal(random_split(101, 4)["test"], out["test"])
