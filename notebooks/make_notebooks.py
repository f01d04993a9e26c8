"""The chemist notebooks: written from the cell sources below, executed, rendered to docs/.

    python notebooks/make_notebooks.py             # write notebooks/*.ipynb (no outputs)
    python notebooks/make_notebooks.py --execute   # ... and execute them into docs/notebooks/

The notebooks are committed without outputs; ``--execute`` runs each one in a fresh kernel
(in a scratch folder, importing molmtd from this checkout) and writes
``docs/notebooks/<name>.md`` with its figures beside it, so a reader sees the results without
running anything. Code cells tagged ``figure`` must show a figure (``tests/test_notebooks.py``
checks every one), and each rendering records the hash of the cells it was made from, so the
test suite notices a rendering that is older than its notebook.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import sysconfig
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs" / "notebooks"
FIGURE_TAG = "figure"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
HASH_LINE = re.compile(r"<!-- source sha256: ([0-9a-f]{64}) -->")


def md(source: str) -> NotebookNode:
    return new_markdown_cell(source)


def code(source: str) -> NotebookNode:
    return new_code_cell(source)


def figure(source: str) -> NotebookNode:
    """A code cell whose output must contain a figure (``image/png``)."""
    return new_code_cell(source, metadata={"tags": [FIGURE_TAG]})


PROPERTY_MODEL = [
    md(
        "# 1. A property model on molmtd embeddings\n\n"
        "Featurise a real ADMET dataset (TDC Caco-2 permeability, official split) with the "
        "shipped molmtd student inside a scikit-learn `Pipeline`, and compare with ECFP4 counts "
        "under the same head. The test set is scored once."
    ),
    code(
        "import matplotlib.pyplot as plt\n"
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
    code(
        "task = load_tdc_admet('caco2_wang')\n"
        "split = task.split(seed=1)  # TDC's scaffold split of train_val; fixed official test set\n"
        "smiles, y = np.array(task.smiles), task.y[:, 0]\n"
        "train = np.concatenate([split['train'], split['valid']])  # RidgeCV selects alpha by CV\n"
        "test = split['test']\n"
        "print(task.source)\n"
        "print(len(train), 'train/valid rows,', len(test), 'test rows')"
    ),
    code(
        "alphas = np.logspace(-2, 4, 13)\n"
        "student = make_pipeline(molmtd.Featurizer(model='default'), StandardScaler(), RidgeCV(alphas=alphas))\n"
        "student.fit(smiles[train], y[train])\n"
        "pred_student = student.predict(smiles[test])\n\n"
        "morgan = get_teacher('morgan', log1p=False)  # raw ECFP4 counts, as in the benchmarks\n"
        "ecfp = FunctionTransformer(lambda s: morgan.embed(list(s))[0])\n"
        "baseline = make_pipeline(ecfp, StandardScaler(), RidgeCV(alphas=alphas))\n"
        "baseline.fit(smiles[train], y[train])\n"
        "pred_ecfp = baseline.predict(smiles[test])\n"
        "print(f'test MAE  molmtd: {mean_absolute_error(y[test], pred_student):.3f}   '\n"
        "      f'ECFP4 counts: {mean_absolute_error(y[test], pred_ecfp):.3f}')"
    ),
    md(
        "Parity plots on the official test set: each point is one test molecule, the "
        "diagonal is a perfect prediction."
    ),
    figure(
        "lo, hi = y[test].min() - 0.3, y[test].max() + 0.3\n"
        "fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharex=True, sharey=True)\n"
        "for ax, (name, pred) in zip(axes, [('molmtd embedding', pred_student), ('ECFP4 counts', pred_ecfp)]):\n"
        "    ax.scatter(y[test], pred, s=12, alpha=0.6, edgecolor='none')\n"
        "    ax.plot([lo, hi], [lo, hi], color='grey', lw=1)\n"
        "    r = np.corrcoef(y[test], pred)[0, 1]\n"
        "    ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect='equal',\n"
        "           title=f'{name}: MAE {mean_absolute_error(y[test], pred):.3f}, r {r:.2f}',\n"
        "           xlabel='measured log Papp (cm/s)')\n"
        "axes[0].set_ylabel('predicted log Papp (cm/s)')\n"
        "fig.suptitle(f'Caco-2 test set ({len(test)} molecules), ridge regression')\n"
        "fig.tight_layout()"
    ),
    md(
        "The full comparison (22 TDC tasks, 5 seeds, MLP/linear/LightGBM heads, all teachers) "
        "is `molmtd benchmark`; see [docs/benchmarks.md](../docs/benchmarks.md)."
    ),
]

SIMILARITY_MAP = [
    md(
        "# 2. Similarity search and a 2-D map of a library\n\n"
        "Embed 2,000 NCI molecules (shipped with RDKit), find the nearest neighbours of a "
        "query by cosine similarity, and draw a PCA map coloured by computed logP."
    ),
    code(
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "from rdkit import Chem, DataStructs\n"
        "from rdkit.Chem import Crippen, Draw, rdFingerprintGenerator\n"
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
    md(
        "Nearest neighbours of aspirin by cosine similarity of the embeddings; the legend "
        "also gives the ECFP4 Tanimoto similarity (Tc) for comparison."
    ),
    figure(
        "query = 'CC(=O)Oc1ccccc1C(=O)O'  # aspirin\n"
        "q = featurizer.transform([query])[0]\n"
        "Xn = X[ok] / np.linalg.norm(X[ok], axis=1, keepdims=True)\n"
        "sims = Xn @ (q / np.linalg.norm(q))\n"
        "valid_smiles = np.array(library)[ok]\n"
        "mols = [Chem.MolFromSmiles(s) for s in valid_smiles]\n"
        "ecfp4 = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)\n"
        "query_fp = ecfp4.GetFingerprint(Chem.MolFromSmiles(query))\n"
        "top = np.argsort(-sims)[:8]\n"
        "tc = [DataStructs.TanimotoSimilarity(query_fp, ecfp4.GetFingerprint(mols[i])) for i in top]\n"
        "Draw.MolsToGridImage(\n"
        "    [Chem.MolFromSmiles(query)] + [mols[i] for i in top], molsPerRow=3, subImgSize=(220, 170),\n"
        "    legends=['query: aspirin'] + [f'cos {sims[i]:.3f}, Tc {t:.2f}' for i, t in zip(top, tc)],\n"
        ")"
    ),
    figure(
        "logp = np.array([Crippen.MolLogP(m) for m in mols])\n"
        "xy = PCA(n_components=2, random_state=0).fit_transform(X[ok])\n"
        "fig, ax = plt.subplots(figsize=(6, 5))\n"
        "points = ax.scatter(xy[:, 0], xy[:, 1], c=np.clip(logp, -3, 8), s=6, cmap='viridis')\n"
        "fig.colorbar(points, label='Crippen logP')\n"
        "ax.set(xlabel='PC 1', ylabel='PC 2', title='NCI library, molmtd embedding')\n"
        "fig.tight_layout()"
    ),
]

DISTIL_OWN = [
    md(
        "# 3. Distil your own student from your own teachers\n\n"
        "A small, offline run: 400 NCI molecules, three RDKit teachers (Morgan counts, MACCS, "
        "2D descriptors) cached in a teacher store, a small GINE student trained with the "
        "multi-teacher NLL, then used through the `Featurizer`."
    ),
    code(
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "import matplotlib.pyplot as plt\n"
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
    code(
        "from molmtd.training.config import TrainConfig\n"
        "from molmtd.training.data import StoreTargets\n"
        "from molmtd.training.trainer import train\n\n"
        "config = TrainConfig(\n"
        "    backbone={'name': 'gine', 'dim': 64, 'hidden': 64, 'num_layers': 3},\n"
        "    loss='nll', loss_kwargs={'hidden': 128, 'n_layers': 2},\n"
        "    epochs=4, batch_size=64, lr=2e-3, val_fraction=0.15, log_every=1, progress=False,\n"
        ")\n"
        "result = train(config, StoreTargets(store), workdir / 'run')\n"
        "print(f'{result.step} steps, best validation loss {result.best_val_loss:.2f} at step {result.best_step}')"
    ),
    md(
        "Learning curves per teacher from the run's `log.csv`: the loss is the teacher's NLL "
        "(nats per molecule, normalised target space) and the MI estimate is "
        "`H(T_k) - NLL_k`, a lower bound on the information the student keeps about the "
        "teacher. The trainer logs the MI on the validation split; `H(T_k)` is fixed during "
        "training, so the training-split estimate is `H(T_k)` (validation MI + validation NLL) "
        "minus the training NLL."
    ),
    figure(
        "import pandas as pd\n"
        "%matplotlib inline\n"
        "# (train() saved curves.png through matplotlib's file backend; back to inline figures)\n"
        "log = pd.read_csv(workdir / 'run' / 'log.csv')\n"
        "tr, va = log[log['split'] == 'train'], log[log['split'] == 'val']\n"
        "teachers = [c[:-len('/loss')] for c in log.columns if c.endswith('/loss')]\n"
        "fig, axes = plt.subplots(2, len(teachers), figsize=(3.3 * len(teachers), 5), sharex=True)\n"
        "for col, k in enumerate(teachers):\n"
        "    entropy = (va[f'{k}/mi'] + va[f'{k}/loss']).median()\n"
        "    for row, (train_y, val_y) in enumerate([(tr[f'{k}/loss'], va[f'{k}/loss']),\n"
        "                                            (entropy - tr[f'{k}/loss'], va[f'{k}/mi'])]):\n"
        "        axes[row, col].plot(tr['step'], train_y, ls='--', label='train')\n"
        "        axes[row, col].plot(va['step'], val_y, marker='o', label='validation')\n"
        "    axes[0, col].set_title(k)\n"
        "    axes[1, col].set_xlabel('step')\n"
        "axes[0, 0].set_ylabel('NLL (nats)')\n"
        "axes[1, 0].set_ylabel('MI estimate (nats)')\n"
        "axes[0, 0].legend()\n"
        "fig.tight_layout()"
    ),
    md(
        "Twenty steps on 400 molecules is a demonstration, not a model: the MI estimates "
        "rise but are still below zero, because the bound is loose until the kernel heads "
        "fit (the shipped default model was distilled on 200,000 molecules). The trained run is "
        "nevertheless a student like the shipped ones: give its folder to the `Featurizer`."
    ),
    code(
        "featurizer = Featurizer(model=workdir / 'run')\n"
        "emb = featurizer.transform(['CCO', 'c1ccccc1O', 'CC(=O)Nc1ccc(O)cc1'])\n"
        "emb.shape"
    ),
]

LIBRARY = [
    md(
        "# 4. Featurise, cluster and search a compound library\n\n"
        "The everyday job: read a library file, embed it, cluster it, look at a few molecules "
        "per cluster, find analogues of a query, and write one table with the embeddings, the "
        "cluster and the provenance of the numbers. The library is the first 3,000 molecules "
        "of the NCI set that ships with RDKit (`rdkit/Data/NCI/first_5K.smi`: SMILES and NCI "
        "id, tab-separated); put your own file in its place."
    ),
    code(
        "import datetime\n"
        "import json\n\n"
        "import numpy as np\n"
        "import pandas as pd\n"
        "import pyarrow as pa\n"
        "import pyarrow.parquet as pq\n"
        "import rdkit\n"
        "import torch\n"
        "from rdkit import Chem, DataStructs\n"
        "from rdkit.Chem import Descriptors, Draw, rdFingerprintGenerator\n"
        "from sklearn.cluster import KMeans\n\n"
        "import molmtd\n"
        "from molmtd import Featurizer\n"
        "from molmtd.data.paths import package_file\n"
        "from molmtd.models import default_model_name, list_models\n\n"
        "source = package_file('rdkit', 'Data/NCI/first_5K.smi')\n"
        "table = pd.read_csv(source, sep='\\t', names=['smiles', 'nci_id'], nrows=3000)\n"
        "table.head(3)"
    ),
    md(
        "Invalid molecules do not stop the run: with `on_error='nan'` their rows are NaN and "
        "`valid_mask_` marks them, one output row per input row, in input order."
    ),
    code(
        "featurizer = Featurizer(model='default', on_error='nan', verbose=True)\n"
        "X = featurizer.transform(table['smiles'])\n"
        "ok = featurizer.valid_mask_\n"
        "domain = getattr(featurizer, 'domain_score_', None)  # applicability domain, if available\n"
        "print(X.shape, 'invalid rows:', int((~ok).sum()))\n"
        "table[~ok]"
    ),
    md(
        "Eight k-means clusters on the L2-normalised embeddings (cosine geometry), with the "
        "size and median properties of each."
    ),
    code(
        "Xn = np.full_like(X, np.nan)\n"
        "Xn[ok] = X[ok] / np.linalg.norm(X[ok], axis=1, keepdims=True)\n"
        "kmeans = KMeans(n_clusters=8, n_init=10, random_state=0).fit(Xn[ok])\n"
        "table['cluster'] = pd.array([pd.NA] * len(table), dtype='Int64')\n"
        "table.loc[ok, 'cluster'] = kmeans.labels_\n"
        "mols = [Chem.MolFromSmiles(s) if v else None for s, v in zip(table['smiles'], ok)]\n"
        "table['mol_wt'] = [Descriptors.MolWt(m) if m else np.nan for m in mols]\n"
        "table['heavy_atoms'] = [m.GetNumHeavyAtoms() if m else pd.NA for m in mols]\n"
        "table.groupby('cluster').agg(size=('smiles', 'size'), median_mol_wt=('mol_wt', 'median'),\n"
        "                             median_heavy_atoms=('heavy_atoms', 'median')).round(1)"
    ),
    md(
        "Four molecules per cluster, the ones closest to its centre (one row per cluster)."
    ),
    figure(
        "rows = np.flatnonzero(ok)\n"
        "dist = kmeans.transform(Xn[ok])  # distance of each valid molecule to each centre\n"
        "shown, legends = [], []\n"
        "for c in range(kmeans.n_clusters):\n"
        "    members = np.flatnonzero(kmeans.labels_ == c)\n"
        "    for j in members[np.argsort(dist[members, c])][:4]:\n"
        "        shown.append(mols[rows[j]])\n"
        "        legends.append(f'cluster {c}: NCI {table.nci_id[rows[j]]}')\n"
        "Draw.MolsToGridImage(shown, molsPerRow=4, subImgSize=(190, 140), legends=legends)"
    ),
    md(
        "Analogues of a query (estradiol) by cosine similarity of the embeddings, with the "
        "ECFP4 Tanimoto similarity (Tc) beside it."
    ),
    figure(
        "query = 'C[C@]12CC[C@H]3[C@@H](CCc4cc(O)ccc43)[C@@H]1CC[C@@H]2O'  # estradiol\n"
        "q = featurizer.set_params(verbose=False).transform([query])[0]\n"
        "table['similarity'] = Xn @ (q / np.linalg.norm(q))\n"
        "hits = table[ok].nlargest(8, 'similarity')\n"
        "ecfp4 = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)\n"
        "query_fp = ecfp4.GetFingerprint(Chem.MolFromSmiles(query))\n"
        "tc = [DataStructs.TanimotoSimilarity(query_fp, ecfp4.GetFingerprint(mols[i])) for i in hits.index]\n"
        "Draw.MolsToGridImage(\n"
        "    [Chem.MolFromSmiles(query)] + [mols[i] for i in hits.index], molsPerRow=3, subImgSize=(220, 170),\n"
        "    legends=['query: estradiol'] + [f'NCI {n}: cos {s:.3f}, Tc {t:.2f}'\n"
        "                                    for n, s, t in zip(hits.nci_id, hits.similarity, tc)],\n"
        ")"
    ),
    md(
        "The table: input columns, validity, cluster, similarity to the query, the rows named "
        "as `molmtd featurize` names them (`molmtd0 ..` for the embedding, then the teacher "
        "heads' `molmtd_minimol0 ..` and `molmtd_rdkit2d_MolWt ..`) and, when the "
        "featuriser provides one, the applicability-domain score. The provenance (model, its "
        "weights' sha256, package versions, input file, date) goes into the Parquet file's "
        "metadata, so the numbers can be traced and reproduced."
    ),
    code(
        "model = default_model_name() if featurizer.model == 'default' else str(featurizer.model)\n"
        "provenance = getattr(featurizer, 'provenance_', None) or {\n"
        "    'model': model,\n"
        "    'weights_sha256': list_models().get(model, {}).get('sha256'),\n"
        "    'versions': {'molmtd': molmtd.__version__, 'rdkit': rdkit.__version__, 'torch': torch.__version__},\n"
        "}\n"
        "provenance = {**provenance, 'input': source.name, 'rows': len(table),\n"
        "              'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}\n"
        "out = table.drop(columns=['mol_wt', 'heavy_atoms']).assign(valid=ok)\n"
        "if domain is not None:\n"
        "    out['domain_score'] = domain\n"
        "emb = pd.DataFrame(X, columns=featurizer.get_feature_names_out())\n"
        "out = pd.concat([out, emb], axis=1)\n"
        "arrow = pa.Table.from_pandas(out, preserve_index=False)\n"
        "arrow = arrow.replace_schema_metadata({**arrow.schema.metadata, b'molmtd': json.dumps(provenance)})\n"
        "pq.write_table(arrow, 'library_embeddings.parquet')\n"
        "print(out.shape, 'written to library_embeddings.parquet')\n"
        "print(json.dumps(provenance, indent=1))"
    ),
    md("Reading it back: the rows, and the provenance from the file's metadata."),
    code(
        "back = pd.read_parquet('library_embeddings.parquet')\n"
        "meta = json.loads(pq.read_schema('library_embeddings.parquet').metadata[b'molmtd'])\n"
        "print(meta['model'], back.shape)\n"
        "back.iloc[:3, :8]"
    ),
]

NOTEBOOKS: dict[str, list[NotebookNode]] = {
    "01_property_model": PROPERTY_MODEL,
    "02_similarity_map": SIMILARITY_MAP,
    "03_distil_your_own_student": DISTIL_OWN,
    "04_library_clusters_analogues": LIBRARY,
}


def build(name: str) -> NotebookNode:
    """The notebook ``name`` as written to ``notebooks/<name>.ipynb`` (no outputs)."""
    nb = new_notebook(cells=[nbformat.from_dict(dict(c)) for c in NOTEBOOKS[name]])
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # stable ids: rewriting an unchanged notebook changes nothing
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def source_hash(nb: NotebookNode) -> str:
    """sha256 of a notebook's cells (type and source, in order): what a rendering must match."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        digest.update(f"{cell.cell_type}\0{cell.source}\0".encode())
    return digest.hexdigest()


def kernel_env(root: Path = ROOT) -> dict[str, str]:
    """Environment of the kernel: imports molmtd from ``root``; figures inline (no MPLBACKEND)."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy's frozen-modules warning
    # One torch/OpenMP thread, as in the test suite: on a shared 2-core machine two threads
    # run the small models here several times slower.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def execute(nb: NotebookNode, cwd: Path, root: Path = ROOT, timeout: int = 600) -> NotebookNode:
    """Run ``nb`` in place in a fresh ``python3`` kernel started in ``cwd``."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute(env=kernel_env(root))
    return nb


def render(nb: NotebookNode, name: str, out_dir: Path = DOCS) -> Path:
    """Write an executed notebook as ``out_dir/<name>.md`` with its figures beside it."""
    from nbconvert import MarkdownExporter

    nb = nbformat.from_dict(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # Progress bars are widgets whose output text is their first frame: left out.
        cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]
        for out in cell.outputs:
            # pandas' HTML tables carry a <style> block that Markdown viewers show as text.
            if "text/html" in out.get("data", {}) and "text/plain" in out["data"]:
                del out["data"]["text/html"]
    files_dir = f"{name}_files"
    body, resources = MarkdownExporter().from_notebook_node(
        nb, resources={"output_files_dir": files_dir}
    )
    for old in (out_dir / files_dir).glob("*"):
        old.unlink()
    (out_dir / files_dir).mkdir(parents=True, exist_ok=True)
    for rel, data in resources["outputs"].items():
        (out_dir / rel).write_bytes(data)
    header = (
        f"<!-- Rendered from notebooks/{name}.ipynb by `python notebooks/make_notebooks.py "
        f"--execute`; do not edit. -->\n<!-- source sha256: {source_hash(nb)} -->\n\n"
    )
    # Links written for notebooks/ (../docs/x.md) must work from docs/notebooks/ as well.
    body = body.replace("](../docs/", "](../")
    for local, shown in _path_aliases():
        body = body.replace(local, shown)
    path = out_dir / f"{name}.md"
    path.write_text(header + body.strip() + "\n")
    return path


def _path_aliases() -> list[tuple[str, str]]:
    """This machine's folders in printed paths, and what the rendering shows instead."""
    aliases = [
        (sysconfig.get_paths()["purelib"], "site-packages"),
        (os.environ.get("MOLMTD_DATA_DIR", ""), "$MOLMTD_DATA_DIR"),
        (str(ROOT.parent), ".."),
    ]
    return [(local, shown) for local, shown in aliases if len(local) > 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="also execute and render to docs/")
    parser.add_argument("names", nargs="*", help=f"notebooks (default: all of {list(NOTEBOOKS)})")
    args = parser.parse_args(argv)
    for name in args.names or list(NOTEBOOKS):
        nb = build(name)
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")
        if args.execute:
            with tempfile.TemporaryDirectory() as tmp:
                execute(nb, Path(tmp))
            print("rendered", render(nb, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
