"""Shared test setup: keep torch to one thread (CI has 2 cores, tests run serially)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
