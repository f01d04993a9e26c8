"""Corpus loaders: named corpora, .smi/.csv files, canonicalisation, dedup/invalid reporting."""

from __future__ import annotations

import gzip

import pytest

from molmtd.data.corpus import CORPORA, canonical_smiles, load_corpus, read_raw_smiles
from molmtd.data.paths import package_file, shared_data_dir

SMI_LINES = [
    "SMILES name",  # header
    "OCC ethanol",
    "",
    "c1ccccc1 benzene",
    "C(C)O ethanol-again",  # duplicate of OCC after canonicalisation
    "not_a_smiles junk",
    "C1CC broken-ring",
    "CC(=O)O acetic",
    "CCO ethanol-canonical",  # duplicate
]


@pytest.fixture
def smi_file(tmp_path):
    path = tmp_path / "mols.smi"
    path.write_text("\n".join(SMI_LINES) + "\n")
    return path


def test_smi_file_file_order(smi_file):
    corpus = load_corpus(str(smi_file), seed=None)
    assert list(corpus) == ["CCO", "c1ccccc1", "CC(=O)O"]
    r = corpus.report
    assert (r.n_raw, r.n_visited, r.n_kept, r.n_invalid, r.n_duplicate) == (7, 7, 3, 2, 2)
    assert r.invalid == [(3, "not_a_smiles"), (4, "C1CC")]  # entry index, header/blanks excluded
    assert "2 unparsable, 2 duplicates" in str(r)


def test_subset_is_deterministic_prefix(smi_file):
    full = load_corpus(str(smi_file), seed=3)
    assert sorted(full) == sorted(["CCO", "c1ccccc1", "CC(=O)O"])
    two = load_corpus(str(smi_file), n=2, seed=3)
    assert list(two) == list(full)[:2] and len(two) == 2
    assert list(load_corpus(str(smi_file), n=2, seed=3)) == list(two)
    assert list(load_corpus(str(smi_file), n=1, seed=None)) == ["CCO"]
    assert len(load_corpus(str(smi_file), n=100, seed=None)) == 3  # fewer exist


def test_csv_and_gz(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("id,Drug,Y\n1,OCC,0.5\n2,c1ccncc1,1.0\n3,xx,2\n")
    assert list(load_corpus(str(csv), seed=None)) == ["CCO", "c1ccncc1"]  # auto-detected Drug
    csv2 = tmp_path / "e.csv"
    csv2.write_text("a,b\nOCC,N\n")
    with pytest.raises(ValueError, match="smiles_col"):
        load_corpus(str(csv2))
    assert list(load_corpus(str(csv2), smiles_col="b")) == ["N"]
    gz = tmp_path / "f.smi.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("OCC\nCCN\n")
    assert read_raw_smiles(str(gz)) == ["OCC", "CCN"]
    with pytest.raises(FileNotFoundError):
        load_corpus(str(tmp_path / "missing.smi"))


def test_canonical_smiles():
    assert canonical_smiles("OCC") == "CCO"
    assert canonical_smiles("C[C@H](N)O") == canonical_smiles("O[C@@H](N)C")  # stereo kept
    assert canonical_smiles("C[C@H](N)O") != canonical_smiles("C[C@@H](N)O")
    assert canonical_smiles("") is None and canonical_smiles("C1CC") is None


def test_rdkit_nci_file():
    path = package_file("rdkit", "Data/NCI/first_5K.smi")
    corpus = load_corpus(str(path), n=300, seed=0)
    assert len(corpus) == 300 and len(set(corpus)) == 300
    assert corpus.report.n_visited == 300 + corpus.report.n_invalid + corpus.report.n_duplicate


@pytest.mark.skipif(
    shared_data_dir() is None or not (shared_data_dir() / "corpora/zinc250k.smi.gz").is_file(),
    reason="shared data folder not available",
)
def test_zinc250k_row_count():
    corpus = load_corpus("zinc250k", n=50)  # reads all rows; the count is checked on load
    assert corpus.report.n_raw == CORPORA["zinc250k"] == 249_455 and len(corpus) == 50


def test_moses_test_split():
    pytest.importorskip("pandas")
    try:
        package_file("moses", "dataset/data/test.csv.gz")
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.skip("molsets not installed")
    corpus = load_corpus("moses-test", n=20)
    assert corpus.report.n_raw == 176_074 and len(corpus) == 20


@pytest.mark.slow
def test_moses_train_row_count():
    corpus = load_corpus("moses", n=100)
    assert corpus.report.n_raw == 1_584_663 and len(corpus) == 100
    assert list(load_corpus("moses", n=10)) == list(corpus)[:10]
