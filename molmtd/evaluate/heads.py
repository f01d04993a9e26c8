"""Prediction heads on frozen embeddings: MLP (torch), linear/logistic (sklearn), LightGBM.

Every head is fitted on train, selected on valid only (early stopping / hyper-parameter),
and then predicts the test rows once. Shared preprocessing (:class:`Standardizer`):

- rows invalid for the representation (``mask`` False) are imputed with the train mean of
  the valid train rows (0 after standardisation); the caller counts them;
- inputs standardised with train mean/std (std 0 -> 1);
- regression targets standardised with train mean/std (predictions mapped back).

Labels are float arrays [N, T] with NaN for missing; losses ignore missing entries.
Classification heads return positive-class probabilities, regression heads values.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: ``(y_true [n], pred [n]) -> score``, higher is better (used for selection on valid).
SelectFn = Callable[[np.ndarray, np.ndarray], float]


@dataclass
class Standardizer:
    """Train-fitted imputation + standardisation of the inputs."""

    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def fit(self, X: np.ndarray, mask: np.ndarray) -> Standardizer:
        Xv = X[mask].astype(np.float64)
        if len(Xv) == 0:
            raise ValueError("no valid training rows for this representation")
        self.mean = Xv.mean(axis=0)
        std = Xv.std(axis=0)
        self.std = np.where(std > 1e-8, std, 1.0)
        return self

    def transform(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        assert self.mean is not None and self.std is not None
        Z = (X.astype(np.float64) - self.mean) / self.std
        Z[~mask] = 0.0  # train-mean imputation
        Z[~np.isfinite(Z)] = 0.0
        return Z.astype(np.float32)


def _target_scaler(y: np.ndarray, task_type: str) -> tuple[np.ndarray, np.ndarray]:
    if task_type != "regression":
        return np.zeros(y.shape[1]), np.ones(y.shape[1])
    mu = np.nanmean(y, axis=0)
    sd = np.nanstd(y, axis=0)
    return mu, np.where(sd > 1e-12, sd, 1.0)


# --------------------------------------------------------------------------------------
# MLP
# --------------------------------------------------------------------------------------


@dataclass
class MLPHead:
    """Linear-LayerNorm-ReLU-Linear, Adam, early stopping on the valid loss.

    Parameters
    ----------
    hidden, lr, weight_decay, batch_size, max_epochs, patience, dropout
        Training settings (fixed, not tuned); the epoch with the lowest masked valid loss
        (BCE for classification, MSE on standardised targets for regression) is restored.
    seed
        Torch seed for initialisation and batch order.
    """

    task_type: str = "regression"
    hidden: int = 512
    lr: float = 1e-3
    weight_decay: float = 1e-5
    batch_size: int = 128
    max_epochs: int = 200
    patience: int = 20
    dropout: float = 0.1
    seed: int = 0
    name: str = "mlp"

    def fit(self, X_train, y_train, X_valid, y_valid, select: SelectFn | None = None) -> MLPHead:
        import torch
        from torch import nn

        torch.manual_seed(self.seed)
        g = torch.Generator().manual_seed(self.seed)
        self._mu, self._sd = _target_scaler(y_train, self.task_type)
        yt = torch.tensor((y_train - self._mu) / self._sd, dtype=torch.float32)
        yv = torch.tensor((y_valid - self._mu) / self._sd, dtype=torch.float32)
        xt = torch.tensor(X_train)
        xv = torch.tensor(X_valid)
        d, t = X_train.shape[1], y_train.shape[1]
        self.model = nn.Sequential(
            nn.Linear(d, self.hidden), nn.LayerNorm(self.hidden), nn.ReLU(),
            nn.Dropout(self.dropout), nn.Linear(self.hidden, t),
        )  # fmt: skip
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr, weight_decay=self.weight_decay)

        def loss_fn(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            ok = ~torch.isnan(y)
            y0 = torch.where(ok, y, torch.zeros_like(y))
            if self.task_type == "classification":
                el = nn.functional.binary_cross_entropy_with_logits(out, y0, reduction="none")
            else:
                el = (out - y0) ** 2
            return (el * ok).sum() / ok.sum().clamp(min=1)

        best, best_state, bad = float("inf"), None, 0
        n = len(xt)
        self.epochs_run = 0
        for _ in range(self.max_epochs):
            self.model.train()
            perm = torch.randperm(n, generator=g)
            for i in range(0, n, self.batch_size):
                idx = perm[i : i + self.batch_size]
                if len(idx) < 2 and n >= 2:
                    continue
                opt.zero_grad()
                loss_fn(self.model(xt[idx]), yt[idx]).backward()
                opt.step()
            self.epochs_run += 1
            self.model.eval()
            with torch.no_grad():
                vl = float(loss_fn(self.model(xv), yv))
            if vl < best - 1e-6:
                best, best_state, bad = vl, copy.deepcopy(self.model.state_dict()), 0
            else:
                bad += 1
                if bad >= self.patience:
                    break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.best_valid_loss = best
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        self.model.eval()
        with torch.no_grad():
            out = self.model(torch.tensor(X)).numpy().astype(np.float64)
        if self.task_type == "classification":
            return 1.0 / (1.0 + np.exp(-out))
        return out * self._sd + self._mu


class _PerLabelHead:
    """A fitted model per label column (or the constant of a column with one class).

    Subclasses fill ``models``, and for regression ``_mu`` and ``_sd`` (the target scaling).
    """

    task_type: str
    models: list[Any]
    _mu: np.ndarray
    _sd: np.ndarray

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (classification) or values [N, n_labels]."""
        cols = []
        for t, m in enumerate(self.models):
            if isinstance(m, float):
                cols.append(np.full(len(X), m))
            elif self.task_type == "classification":
                cols.append(m.predict_proba(X)[:, 1])
            else:
                cols.append(m.predict(X) * self._sd[t] + self._mu[t])
        return np.stack(cols, axis=1)


# --------------------------------------------------------------------------------------
# Linear / logistic
# --------------------------------------------------------------------------------------

LINEAR_GRID = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


@dataclass
class LinearHead(_PerLabelHead):
    """Ridge (regression) or L2 logistic regression (classification), one per label column.

    The regularisation strength is chosen on valid: ``C`` in :data:`LINEAR_GRID` for logistic
    regression, ``alpha = 1 / C`` for ridge; the selection score is ``select`` (the task
    metric, higher is better) or, without it, negative MSE / negative log-loss.
    """

    task_type: str = "regression"
    grid: tuple[float, ...] = LINEAR_GRID
    seed: int = 0
    name: str = "linear"

    def fit(self, X_train, y_train, X_valid, y_valid, select: SelectFn | None = None):
        from sklearn.linear_model import LogisticRegression, Ridge

        self._mu, self._sd = _target_scaler(y_train, self.task_type)
        self.models, self.chosen = [], []
        for t in range(y_train.shape[1]):
            tr = ~np.isnan(y_train[:, t])
            va = ~np.isnan(y_valid[:, t])
            ytr = (y_train[tr, t] - self._mu[t]) / self._sd[t]
            best, best_model, best_c = -np.inf, None, None
            if self.task_type == "classification" and len(np.unique(ytr)) < 2:
                self.models.append(float(ytr.mean()) if len(ytr) else 0.5)
                self.chosen.append(None)
                continue
            for c in self.grid:
                if self.task_type == "classification":
                    m = LogisticRegression(C=c, max_iter=2000, random_state=self.seed)
                    m.fit(X_train[tr], ytr.astype(int))
                    p = m.predict_proba(X_valid[va])[:, 1]
                else:
                    m = Ridge(alpha=1.0 / c, random_state=self.seed).fit(X_train[tr], ytr)
                    p = m.predict(X_valid[va]) * self._sd[t] + self._mu[t]
                s = _select_score(select, y_valid[va, t], p, self.task_type)
                if s > best or best_model is None:
                    best, best_model, best_c = s, m, c
            self.models.append(best_model)
            self.chosen.append(best_c)
        return self



def _select_score(select: SelectFn | None, y: np.ndarray, p: np.ndarray, task_type: str) -> float:
    if len(y) == 0:
        return 0.0
    if select is not None:
        try:
            v = float(select(y, p))
            if np.isfinite(v):
                return v
        except ValueError:  # e.g. a single class in valid
            pass
    if task_type == "classification":
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return -float(np.mean((y - p) ** 2))


# --------------------------------------------------------------------------------------
# LightGBM
# --------------------------------------------------------------------------------------


@dataclass
class LGBMHead(_PerLabelHead):
    """LightGBM per label column, fixed parameters, early stopping on the valid loss."""

    task_type: str = "regression"
    n_estimators: int = 2000
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 10
    subsample: float = 0.8
    colsample_bytree: float = 0.5
    early_stopping: int = 50
    seed: int = 0
    name: str = "lgbm"

    def fit(self, X_train, y_train, X_valid, y_valid, select: SelectFn | None = None):
        import lightgbm as lgb

        self._mu, self._sd = _target_scaler(y_train, self.task_type)
        params = dict(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
            subsample=self.subsample, subsample_freq=1, colsample_bytree=self.colsample_bytree,
            random_state=self.seed, n_jobs=1, verbose=-1,
        )  # fmt: skip
        self.models = []
        for t in range(y_train.shape[1]):
            tr = ~np.isnan(y_train[:, t])
            va = ~np.isnan(y_valid[:, t])
            ytr = (y_train[tr, t] - self._mu[t]) / self._sd[t]
            yva = (y_valid[va, t] - self._mu[t]) / self._sd[t]
            if self.task_type == "classification":
                if len(np.unique(ytr)) < 2:
                    self.models.append(float(ytr.mean()) if len(ytr) else 0.5)
                    continue
                m = lgb.LGBMClassifier(**params)
            else:
                m = lgb.LGBMRegressor(**params)
            callbacks = [lgb.early_stopping(self.early_stopping, verbose=False)]
            with warnings.catch_warnings():  # eval_set is deprecated in 4.7, eval_X absent <4.6
                warnings.simplefilter("ignore", category=FutureWarning)
                warnings.simplefilter("ignore", category=DeprecationWarning)
                m.fit(X_train[tr], ytr, eval_set=[(X_valid[va], yva)], callbacks=callbacks)
            self.models.append(m)
        return self



HEADS = {"mlp": MLPHead, "linear": LinearHead, "lgbm": LGBMHead}


def make_head(name: str, task_type: str, seed: int, quick: bool = False):
    """Instantiate a head by name; ``quick`` shrinks the MLP / LightGBM budgets."""
    if name not in HEADS:
        raise KeyError(f"unknown head {name!r}; known: {sorted(HEADS)}")
    kwargs: dict = {"task_type": task_type, "seed": seed}
    if quick and name == "mlp":
        kwargs.update(hidden=64, max_epochs=40, patience=8)
    if quick and name == "lgbm":
        kwargs.update(n_estimators=200, early_stopping=20)
    if quick and name == "linear":
        kwargs.update(grid=(1e-2, 1.0, 100.0))
    return HEADS[name](**kwargs)
