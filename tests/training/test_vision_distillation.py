"""Vision end-to-end: distil HOG + LBP + pixel-PCA teachers into a small CNN on sklearn digits.

1,797 real 8x8 handwritten digits (``sklearn.datasets.load_digits``). Teachers are classical
descriptors (scikit-image HOG and uniform-LBP histograms, scikit-learn PCA of the pixels);
the digit labels are never seen by the distillation. A logistic-regression probe (5-fold CV)
on frozen embeddings measures digit accuracy: distilled student vs a randomly initialised
CNN of the same architecture and seed.
"""

from __future__ import annotations

import numpy as np
import pytest


def digit_teachers(images: np.ndarray) -> dict[str, np.ndarray]:
    from skimage.feature import hog, local_binary_pattern
    from sklearn.decomposition import PCA

    hog_f = np.array(
        [hog(im, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(1, 1)) for im in images],
        dtype=np.float32,
    )
    lbp = []
    for im in images:
        codes = local_binary_pattern((im * 16).astype(np.uint8), P=8, R=1, method="uniform")
        hist = np.bincount(codes.astype(int).ravel(), minlength=10)[:10]
        lbp.append(hist / hist.sum())
    pca = PCA(16, random_state=0).fit_transform(images.reshape(len(images), -1))
    return {
        "hog": hog_f,
        "lbp": np.array(lbp, dtype=np.float32),
        "pixel_pca": pca.astype(np.float32),
    }


def probe_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return float(
        cross_val_score(clf, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
    )


def run_vision_experiment(
    run_dir, epochs: int = 8, teacher_probes: bool = False
) -> dict[str, float]:
    from sklearn.datasets import load_digits

    from molmtd.backbones import build_backbone
    from molmtd.training import ArrayTargets, Distiller, TrainConfig, embed, load_student
    from molmtd.utils import seed_everything

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # [1797, 8, 8] in [0, 1]
    teachers = digit_teachers(images)
    backbone = {"name": "cnn", "dim": 32, "in_channels": 1, "channels": [16, 32]}
    cfg = TrainConfig(
        backbone=backbone,
        loss="nll",
        loss_kwargs={"hidden": 128, "n_layers": 2},
        epochs=epochs,
        batch_size=64,
        lr=3e-3,
        val_fraction=0.1,
        patience=None,
        progress=False,
        device="cpu",
    )
    result = Distiller(cfg, ArrayTargets(images, teachers, name="sklearn-digits"), run_dir).fit()
    student = load_student(run_dir)
    seed_everything(cfg.seed)
    random_student = build_backbone(backbone).eval()
    res = {
        "n_images": len(images),
        "distilled": probe_accuracy(student.embed(images), digits.target),
        "random_init": probe_accuracy(embed(random_student, images), digits.target),
        "val_loss_start": result.val_history[0]["loss"],
        "val_loss_best": result.best_val_loss,
    }
    if teacher_probes:
        for name, x in teachers.items():
            res[f"teacher_{name}"] = probe_accuracy(x, digits.target)
    return res


def test_distilled_cnn_beats_random_init(tmp_path, record_property):
    pytest.importorskip("skimage")
    res = run_vision_experiment(tmp_path)
    for k, v in res.items():
        record_property(k, v)
    print("vision probe accuracy:", res)
    assert res["val_loss_best"] < res["val_loss_start"]
    assert res["distilled"] > res["random_init"] + 0.02, res
