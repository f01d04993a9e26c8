from __future__ import annotations

import pytest
import torch

from molmtd.data.paths import package_file


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def nci_smiles() -> list[str]:
    """The first molecules of RDKit's NCI sample (real, parseable SMILES)."""
    path = package_file("rdkit", "Data/NCI/first_5K.smi")
    return [line.split()[0] for line in path.read_text().splitlines()[:400] if line.strip()]
