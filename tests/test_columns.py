"""Column names of a student's rows: the embedding, then each teacher head's targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from molmtd import Featurizer
from molmtd.cli import main
from molmtd.student.columns import column_names

META = {
    "backbone": {"dim": 4, "teacher_heads": [["minimol", 3], ["rdkit2d", 2]]},
    "teachers": {"rdkit2d": {"config": {"descriptors": ["MolWt", "qed"]}}, "minimol": {}},
}


def test_embedding_then_heads_named_by_descriptor_or_position():
    assert column_names(META, 9) == [
        "molmtd0",
        "molmtd1",
        "molmtd2",
        "molmtd3",
        "molmtd_minimol0",
        "molmtd_minimol1",
        "molmtd_minimol2",
        "molmtd_rdkit2d_MolWt",
        "molmtd_rdkit2d_qed",
    ]


@pytest.mark.parametrize(
    "meta, width",
    [
        (None, 3),
        ({"backbone": {"dim": 3}}, 3),
        (META, 8),  # the metadata does not add up to the rows: plain names, never misnamed
    ],
)
def test_plain_names_without_heads(meta, width):
    assert column_names(meta, width) == [f"molmtd{i}" for i in range(width)]


def test_descriptor_lists_that_do_not_fit_fall_back_to_positions():
    meta = {**META, "teachers": {"rdkit2d": {"config": {"descriptors": ["MolWt", "MolWt"]}}}}
    assert column_names(meta, 9)[-2:] == ["molmtd_rdkit2d0", "molmtd_rdkit2d1"]


# drug-like, the default's training domain (methane, far outside it, gets a MolWt head value
# above aspirin's)
SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(=O)Nc1ccc(O)cc1",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",
    "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
]


def test_default_names_its_heads_and_the_names_point_at_the_right_columns():
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    feat = Featurizer()
    names = list(feat.get_feature_names_out())
    assert len(names) == len(set(names)) == feat.n_features_out_
    assert names[:2] == ["molmtd0", "molmtd1"] and "molmtd_minimol0" in names
    rows = feat.transform(SMILES)
    predicted = rows[:, names.index("molmtd_rdkit2d_MolWt")]
    weights = [Descriptors.MolWt(Chem.MolFromSmiles(s)) for s in SMILES]
    assert spearmanr(predicted, weights).statistic > 0.9


def test_featurize_writes_the_same_names(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": SMILES[:3]}).to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    assert main(["featurize", str(src), "-o", str(out)]) == 0
    frame = pd.read_parquet(out)
    names = list(Featurizer().get_feature_names_out())
    assert list(frame.columns) == ["smiles", "valid", "domain_score", *names]
    np.testing.assert_allclose(
        frame[names].to_numpy(np.float32), Featurizer().transform(SMILES[:3]), rtol=1e-5, atol=1e-5
    )


def test_pandas_output_carries_the_names():
    frame = Featurizer(n_jobs=1).set_output(transform="pandas").transform(SMILES[:2])
    assert list(frame.columns) == list(Featurizer().get_feature_names_out())
