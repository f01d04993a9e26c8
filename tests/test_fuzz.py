"""Fuzz: 1,000+ generated bad and unusual inputs through the Featurizer and the CLI.

Random and truncated strings, mixed Python types, bytes, very large molecules, unusual
elements, dummy atoms, charges and isotopes. Contract: one row per input in input order,
NaN exactly where ``valid_mask_`` is False, finite rows elsewhere, no all-zero row, no crash.
"""

from __future__ import annotations

import csv
import math
import random
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from trust_helpers import real_smiles, save_student

from molmtd.featurizer import Featurizer
from molmtd.utils import parse_mol, rdkit_quiet

UNUSUAL = [
    "[U]", "[Og]", "[Xe]", "[He]", "[Fe+3]", "[Pt]", "[Si]", "[te]1cccc1", "[Se]", "[Cf]",
    "*", "[*]C", "*c1ccccc1", "[1*]CC[2*]", "[*:1]CCO", "[13C]", "[2H][2H]", "[H]", "[H+]",
    "[C-4]", "[N+5]", "[CH3]", "[CH2]", "[C]", "[Na+].[Cl-]", "O.O.O.O", "[Li+]", "C.C.C.C",
    "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCCC1", "C=C=C=C=C=C", "C#C#C", "c", "n1cccc1", "F[P-](F)(F)(F)(F)F",
]  # fmt: skip
OTHER_TYPES = [None, 0, 1, -1, 2.5, math.nan, math.inf, True, False, b"CCO", b"\xff\xfe",
               bytearray(b"CC"), [], ["CCO"], ("CCO",), {}, {"smiles": "CCO"}, object(),
               np.float32(1.0), np.int64(3), np.str_("CCO"), 1j, Path("CCO"), ...]  # fmt: skip


def fuzz_inputs(n: int = 1000, seed: int = 0) -> list:
    """``n`` generated inputs: mostly bad, some unusual but valid, some ordinary."""
    rng = random.Random(seed)
    real = real_smiles(300)
    alphabet = string.printable + "[]()=#@+-\\/%.*:~→é\x00"
    out: list = [*UNUSUAL, *OTHER_TYPES]
    makers = [
        lambda: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))),  # random
        lambda: "".join(rng.choice("CNOcn()=#123[]+-.Hl") for _ in range(rng.randint(1, 30))),
        lambda: (s := rng.choice(real))[: rng.randint(0, len(s))],  # truncated
        lambda: rng.choice(real) + rng.choice(["(", ")", "1", "[", "=", "#", ".", " ", "\n"]),
        lambda: rng.choice(real),  # ordinary, valid
        lambda: "C" * rng.randint(200, 2000),  # very large chain
        lambda: "c1ccccc1" * rng.randint(50, 150),  # many fragments
        lambda: ".".join(rng.choices(real, k=rng.randint(2, 6))),  # mixtures
        lambda: rng.choice(UNUSUAL) + rng.choice(real),  # an unusual atom attached
        lambda: rng.choice(OTHER_TYPES),
        lambda: rng.choice(real).encode(),  # bytes
        lambda: " " * rng.randint(0, 5) + rng.choice(real) + " " * rng.randint(0, 5),
    ]
    while len(out) < n:
        out.append(rng.choice(makers)())
    return out


def expected_valid(item: object) -> bool:
    """Independent of the Featurizer: a string RDKit parses into a molecule with atoms."""
    with rdkit_quiet():
        return parse_mol(item) is not None


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_student(tmp_path_factory.mktemp("fuzz") / "m")


def _check(X: np.ndarray, valid: np.ndarray, inputs: list) -> None:
    assert X.shape == (len(inputs), 32) and valid.shape == (len(inputs),)
    assert np.isnan(X[~valid]).all()
    assert np.isfinite(X[valid]).all()
    assert not (X[valid] == 0).all(axis=1).any(), "an all-zero row"


@pytest.mark.parametrize("standardize", ["none", "parent"])
def test_fuzz_featurizer(model: Path, standardize: str) -> None:
    inputs = fuzz_inputs(1000)
    assert len(inputs) >= 1000
    feat = Featurizer(model=model, on_error="nan", standardize=standardize)
    X = feat.transform(inputs)
    _check(X, feat.valid_mask_, inputs)
    expected = np.array([expected_valid(x) for x in inputs])
    assert 100 < expected.sum() < 900  # both kinds are well represented
    np.testing.assert_array_equal(feat.valid_mask_, expected)


def test_fuzz_featurizer_parallel_matches_serial(model: Path) -> None:
    inputs = fuzz_inputs(1000, seed=1)
    serial = Featurizer(model=model, on_error="nan")
    X1 = serial.transform(inputs)
    parallel = Featurizer(model=model, on_error="nan", n_jobs=2)
    X2 = parallel.transform(inputs)
    np.testing.assert_array_equal(serial.valid_mask_, parallel.valid_mask_)
    np.testing.assert_allclose(X1, X2, atol=1e-5)  # NaN positions equal too


def test_fuzz_raise_names_the_first_bad_input(model: Path) -> None:
    from molmtd.featurizer import InvalidMoleculeError

    inputs = fuzz_inputs(200, seed=2)
    first_bad = next(i for i, x in enumerate(inputs) if not expected_valid(x))
    with pytest.raises(InvalidMoleculeError, match=rf"^input {first_bad} "):
        Featurizer(model=model).transform(inputs)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_fuzz_cli(model: Path, tmp_path: Path, suffix: str) -> None:
    from molmtd.cli import main

    strings = [x for x in fuzz_inputs(400, seed=3) if isinstance(x, str) and "\x00" not in x]
    strings = strings[:200]
    src = tmp_path / f"in{suffix}"
    table = pd.DataFrame({"id": range(len(strings)), "smiles": strings})
    if suffix == ".csv":
        table.to_csv(src, index=False, quoting=csv.QUOTE_ALL)  # keeps a lone "\r" in a field
    else:
        table.to_parquet(src, index=False)
    out = tmp_path / "out.parquet"
    assert main(["featurize", str(src), "-o", str(out), "--model", str(model)]) == 0
    result = pd.read_parquet(out)
    assert result["id"].tolist() == list(range(len(strings)))
    read_back = pd.read_csv(src)["smiles"].tolist() if suffix == ".csv" else strings
    valid = result["valid"].to_numpy()
    np.testing.assert_array_equal(valid, [expected_valid(s) for s in read_back])
    _check(result.filter(like="molmtd").to_numpy(np.float32), valid, strings)
