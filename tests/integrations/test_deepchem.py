"""molmtd inside DeepChem: a MolecularFeaturizer over Featurizer, loaders, a model, the split."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

dc = pytest.importorskip("deepchem")

from molmtd import Featurizer  # noqa: E402
from molmtd.data.paths import package_file  # noqa: E402
from molmtd.integrations.deepchem import MolmtdFeaturizer  # noqa: E402
from molmtd.models import default_model_name, list_models  # noqa: E402

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1"]
#: width of the default model's rows (from its card, no weights loaded)
DEFAULT_DIM = int(list_models()[default_model_name()]["dim"])


@pytest.fixture(scope="module")
def reference_rows() -> np.ndarray:
    return Featurizer().transform(SMILES)


def test_is_a_deepchem_featurizer_with_the_featurizers_rows(reference_rows):
    featurizer = MolmtdFeaturizer()
    assert isinstance(featurizer, dc.feat.MolecularFeaturizer)
    X = featurizer.featurize(SMILES)
    np.testing.assert_array_equal(X, reference_rows)
    from rdkit import Chem

    # RDKit molecules and a single string work as for DeepChem's own featurizers
    np.testing.assert_allclose(
        featurizer([Chem.MolFromSmiles(s) for s in SMILES]), reference_rows, atol=1e-6
    )
    np.testing.assert_array_equal(featurizer.featurize("CCO")[0], reference_rows[0])


def test_batched_not_one_molecule_per_call(monkeypatch):
    featurizer = MolmtdFeaturizer()
    calls = []
    original = featurizer.featurizer.transform
    monkeypatch.setattr(
        featurizer.featurizer, "transform", lambda X: calls.append(len(X)) or original(X)
    )
    featurizer.featurize(SMILES * 3)
    assert calls == [12]


def test_invalid_molecules_nan_skip_raise(reference_rows):
    inputs = ["CCO", "not a smiles", "c1ccccc1O"]
    nan = MolmtdFeaturizer()
    X = nan.featurize(inputs)
    assert X.shape == (3, DEFAULT_DIM) and nan.valid_mask_.tolist() == [True, False, True]
    assert np.isnan(X[1]).all()
    np.testing.assert_array_equal(X[[0, 2]], reference_rows[:2])

    skip = MolmtdFeaturizer(on_error="skip").featurize(inputs)
    assert skip.dtype == object and skip[1].size == 0
    np.testing.assert_array_equal(skip[2], reference_rows[1])

    with pytest.raises(ValueError, match=r"input 1 \('not a smiles'\)"):
        MolmtdFeaturizer(on_error="raise").featurize(inputs)
    with pytest.raises(ValueError, match="on_error"):
        MolmtdFeaturizer(on_error="drop")


def test_csv_loader_disk_dataset_and_a_deepchem_model(tmp_path, reference_rows, caplog):
    from sklearn.linear_model import Ridge

    path = tmp_path / "data.csv"
    pd.DataFrame({"smiles": [*SMILES, "bad"], "y": [0.1, 0.5, 0.3, 0.9, 1.0]}).to_csv(path)
    # "skip": DeepChem's convention, the loader leaves the bad molecule out and its ids say so
    loader = dc.data.CSVLoader(["y"], feature_field="smiles", featurizer=MolmtdFeaturizer(on_error="skip"))
    with caplog.at_level(logging.WARNING):
        dataset = loader.create_dataset(str(path), data_dir=str(tmp_path / "disk"))
    assert isinstance(dataset, dc.data.DiskDataset)
    assert list(dataset.ids) == SMILES and "1 of 5 molecules are invalid" in caplog.text
    np.testing.assert_array_equal(dataset.X, reference_rows)
    # "nan": one row per input, NaN where invalid
    nan_set = dc.data.CSVLoader(["y"], feature_field="smiles", featurizer=MolmtdFeaturizer()).create_dataset(str(path))
    assert len(nan_set) == 5 and np.isnan(nan_set.X[4]).all()

    model = dc.models.SklearnModel(Ridge(alpha=1.0))
    model.fit(dataset)
    predictions = model.predict(dataset)
    assert predictions.shape[0] == 4 and np.isfinite(predictions).all()
    score = model.evaluate(dataset, [dc.metrics.Metric(dc.metrics.pearson_r2_score)])
    assert score["pearson_r2_score"] > 0.5  # 512 features, 4 rows: fits the training set


def test_molnet_loader_reads_a_local_file_without_downloading(tmp_path, monkeypatch):
    # the real BBBP file (molalkit's copy, DeepChem's columns smiles,p_np), first 300 rows
    rows = pd.read_csv(package_file("molalkit", "data/datasets/bbbp.csv")).head(300)
    rows.to_csv(tmp_path / "BBBP.csv", index=False)

    def no_download(*args, **kwargs):
        raise AssertionError("DeepChem tried to download")

    monkeypatch.setattr(dc.utils.data_utils, "download_url", no_download)
    tasks, (train, valid, test), _ = dc.molnet.load_bbbp(
        featurizer=MolmtdFeaturizer(on_error="skip"), splitter="scaffold", transformers=[],
        data_dir=str(tmp_path), save_dir=str(tmp_path / "save"),
    )  # fmt: skip
    assert tasks == ["p_np"]
    assert train.X.shape[1] == DEFAULT_DIM and len(train) + len(valid) + len(test) >= 295
    assert np.isfinite(train.X).all()


def test_moleculenet_dc_suite_uses_deepchems_scaffold_splitter():
    from molmtd.data.datasets import load_task
    from molmtd.data.splits import murcko_scaffold

    task = load_task("moleculenet-dc", "bace")
    split = task.split(1)
    assert task.suite == "moleculenet-dc" and "DeepChem ScaffoldSplitter" in task.test_set
    everything = np.concatenate([split["train"], split["valid"], split["test"]])
    assert np.array_equal(np.sort(everything), np.arange(len(task.smiles)))
    np.testing.assert_array_equal(split["test"], load_task("moleculenet-dc", "bace").split(3)["test"])
    # scaffold-disjoint by DeepChem's definition (no chirality)
    scaffold = [murcko_scaffold(s, include_chirality=False) for s in task.smiles]
    train = {scaffold[i] for i in split["train"]}
    assert not train & {scaffold[i] for i in split["test"]}
    # and the same partition DeepChem gives on its own dataset
    ds = dc.data.NumpyDataset(X=np.zeros((len(task.smiles), 1)), ids=np.array(task.smiles))
    _, _, test = dc.splits.ScaffoldSplitter().split(ds)
    np.testing.assert_array_equal(np.sort(test), split["test"])
