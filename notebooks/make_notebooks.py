"""Writes the chemist notebooks from the cell sources below (outputs are not committed).

    python notebooks/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

PROPERTY_MODEL = [
    new_markdown_cell(
        "# 1. A property model on molmtd embeddings\n\n"
        "Featurise a real ADMET dataset (TDC Caco-2 permeability, official split) with the "
        "shipped molmtd student inside a scikit-learn `Pipeline`, and compare with ECFP4 counts "
        "under the same head. The test set is scored once."
    ),
    new_code_cell(
        "import numpy as np\n"
        "from sklearn.linear_model import RidgeCV\n"
        "from sklearn.metrics import mean_absolute_error\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import FunctionTransformer, StandardScaler\n\n"
        "import molmtd\n"
        "from molmtd.data.datasets import load_tdc_admet\n"
        "from molmtd.teachers import get_teacher\n\n"
        "print(list(molmtd.list_models()))"
    ),
    new_code_cell(
        "task = load_tdc_admet('caco2_wang')\n"
        "split = task.split(seed=1)  # TDC's scaffold split of train_val; fixed official test set\n"
        "smiles, y = np.array(task.smiles), task.y[:, 0]\n"
        "train = np.concatenate([split['train'], split['valid']])  # RidgeCV selects alpha by CV\n"
        "test = split['test']\n"
        "print(len(train), 'train/valid rows,', len(test), 'test rows')"
    ),
    new_code_cell(
        "alphas = np.logspace(-2, 4, 13)\n"
        "student = make_pipeline(molmtd.Featurizer(model='default'), StandardScaler(), RidgeCV(alphas=alphas))\n"
        "student.fit(smiles[train], y[train])\n"
        "mae_student = mean_absolute_error(y[test], student.predict(smiles[test]))\n\n"
        "morgan = get_teacher('morgan', log1p=False)  # raw ECFP4 counts, as in the benchmarks\n"
        "ecfp = FunctionTransformer(lambda s: morgan.embed(list(s))[0])\n"
        "baseline = make_pipeline(ecfp, StandardScaler(), RidgeCV(alphas=alphas))\n"
        "baseline.fit(smiles[train], y[train])\n"
        "mae_ecfp = mean_absolute_error(y[test], baseline.predict(smiles[test]))\n"
        "print(f'test MAE  molmtd: {mae_student:.3f}   ECFP4 counts: {mae_ecfp:.3f}')"
    ),
    new_markdown_cell(
        "The full comparison (22 TDC tasks, 5 seeds, MLP/linear/LightGBM heads, all teachers) "
        "is `molmtd benchmark`; see the README's headline table."
    ),
]

SIMILARITY_MAP = [
    new_markdown_cell(
        "# 2. Similarity search and a 2-D map of a library\n\n"
        "Embed 2,000 NCI molecules (shipped with RDKit), find the nearest neighbours of a "
        "query by cosine similarity, and draw a PCA map coloured by computed logP."
    ),
    new_code_cell(
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "from rdkit import Chem\n"
        "from rdkit.Chem import Crippen\n"
        "from sklearn.decomposition import PCA\n\n"
        "from molmtd import Featurizer\n"
        "from molmtd.data.paths import package_file\n\n"
        "lines = package_file('rdkit', 'Data/NCI/first_5K.smi').read_text().splitlines()[:2000]\n"
        "library = [line.split()[0] for line in lines]\n"
        "featurizer = Featurizer(model='default', on_error='nan')\n"
        "X = featurizer.transform(library)\n"
        "ok = featurizer.valid_mask_\n"
        "print(X.shape, 'invalid rows:', int((~ok).sum()))"
    ),
    new_code_cell(
        "query = 'CC(=O)Oc1ccccc1C(=O)O'  # aspirin\n"
        "q = featurizer.transform([query])[0]\n"
        "Xn = X[ok] / np.linalg.norm(X[ok], axis=1, keepdims=True)\n"
        "sims = Xn @ (q / np.linalg.norm(q))\n"
        "valid_smiles = np.array(library)[ok]\n"
        "for i in np.argsort(-sims)[:5]:\n"
        "    print(f'{sims[i]:.3f}  {valid_smiles[i]}')"
    ),
    new_code_cell(
        "logp = np.array([Crippen.MolLogP(Chem.MolFromSmiles(s)) for s in valid_smiles])\n"
        "xy = PCA(n_components=2, random_state=0).fit_transform(X[ok])\n"
        "fig, ax = plt.subplots(figsize=(6, 5))\n"
        "points = ax.scatter(xy[:, 0], xy[:, 1], c=np.clip(logp, -3, 8), s=6, cmap='viridis')\n"
        "fig.colorbar(points, label='Crippen logP')\n"
        "ax.set(xlabel='PC 1', ylabel='PC 2', title='NCI library, molmtd embedding')\n"
        "fig.tight_layout()"
    ),
]

DISTIL_OWN = [
    new_markdown_cell(
        "# 3. Distil your own student from your own teachers\n\n"
        "A small, offline run: 400 NCI molecules, three RDKit teachers (Morgan counts, MACCS, "
        "2D descriptors) cached in a teacher store, a small GINE student trained with the "
        "multi-teacher NLL, then used through the `Featurizer`."
    ),
    new_code_cell(
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "import torch\n"
        "torch.set_num_threads(2)\n\n"
        "from molmtd import Featurizer\n"
        "from molmtd.data.corpus import load_corpus\n"
        "from molmtd.data.paths import package_file\n"
        "from molmtd.store import TeacherStore, build_teacher\n"
        "from molmtd.teachers import get_teacher\n\n"
        "workdir = Path(tempfile.mkdtemp())\n"
        "smiles = load_corpus(str(package_file('rdkit', 'Data/NCI/first_5K.smi')), n=400)\n"
        "store = TeacherStore.create(workdir / 'store', smiles, chunk_size=200)\n"
        "for name in ['morgan', 'maccs', 'rdkit2d']:\n"
        "    build_teacher(store, get_teacher(name), n_jobs=1)\n"
        "store = TeacherStore.open(workdir / 'store')\n"
        "{name: (info['dim'], info['coverage']) for name, info in store.teachers.items()}"
    ),
    new_code_cell(
        "from molmtd.training.config import TrainConfig\n"
        "from molmtd.training.data import StoreTargets\n"
        "from molmtd.training.trainer import train\n\n"
        "config = TrainConfig(\n"
        "    backbone={'name': 'gine', 'dim': 64, 'hidden': 64, 'num_layers': 3},\n"
        "    loss='nll', loss_kwargs={'hidden': 128, 'n_layers': 2},\n"
        "    epochs=3, batch_size=64, lr=2e-3, val_fraction=0.15, progress=False,\n"
        ")\n"
        "result = train(config, StoreTargets(store), workdir / 'run')\n"
        "result"
    ),
    new_code_cell(
        "import pandas as pd\n"
        "log = pd.read_csv(workdir / 'run' / 'log.csv')\n"
        "log[log['split'] == 'val'].filter(regex='step|mi/|loss').tail(3)"
    ),
    new_code_cell(
        "featurizer = Featurizer(model=workdir / 'run')\n"
        "emb = featurizer.transform(['CCO', 'c1ccccc1O', 'CC(=O)Nc1ccc(O)cc1'])\n"
        "emb.shape"
    ),
]


def main() -> None:
    for name, cells in [
        ("01_property_model.ipynb", PROPERTY_MODEL),
        ("02_similarity_map.ipynb", SIMILARITY_MAP),
        ("03_distil_your_own_student.ipynb", DISTIL_OWN),
    ]:
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
