"""Molecular GNN backbones: featurisation, shapes, gradients, config round-trip, errors."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from molmtd.backbones import build_backbone, list_backbones
from molmtd.backbones.features import GraphCollator, smiles_to_graph

GNNS = ["gine", "gin", "gatv2", "graphsage"]
SMALL = {"dim": 24, "hidden": 16, "num_layers": 2, "heads": 2}


def test_gnns_are_registered():
    assert set(GNNS) <= set(list_backbones())


def test_features_equal_ogb_smiles2graph(nci_smiles):
    from ogb.utils import smiles2graph

    for smi in [*nci_smiles[:150], "Cl[C@H](/C=C/C)Br", "[Na+].[Cl-]", "C"]:
        ours, ref = smiles_to_graph(smi), smiles2graph(smi)
        np.testing.assert_array_equal(ours["x"], ref["node_feat"])
        np.testing.assert_array_equal(ours["edge_index"], ref["edge_index"])
        np.testing.assert_array_equal(ours["edge_attr"], ref["edge_feat"])


def test_feature_encoder_matches_ogb_encoders():
    from molmtd.backbones.features import ATOM_FEATURE_DIMS, FeatureEncoder

    # Load OGB's encoder module by file: importing ogb.graphproppred pulls in its datasets.
    spec = importlib.util.find_spec("ogb")
    path = Path(spec.submodule_search_locations[0]) / "graphproppred" / "mol_encoder.py"
    module_spec = importlib.util.spec_from_file_location("_ogb_mol_encoder", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    AtomEncoder = module.AtomEncoder

    ours, ref = FeatureEncoder(ATOM_FEATURE_DIMS, 8), AtomEncoder(8)
    with torch.no_grad():
        for k, emb in enumerate(ref.atom_embedding_list):
            off = int(ours.offsets[k])
            emb.weight.copy_(ours.embedding.weight[off : off + emb.num_embeddings])
    x = torch.from_numpy(smiles_to_graph("CC(=O)Oc1ccccc1C(=O)O")["x"].astype(np.int64))
    torch.testing.assert_close(ours(x), ref(x))


@pytest.mark.parametrize("name", GNNS)
def test_forward_backward_shapes(name, nci_smiles):
    torch.manual_seed(0)
    model = build_backbone({"name": name, **SMALL, "pool": "attention", "readout": "concat"})
    batch = model.collate(nci_smiles[:7])
    out = model(batch)
    assert out.shape == (7, 24) and model.dim == 24
    assert torch.isfinite(out).all()
    out.pow(2).mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.parametrize(
    "norm,pool,readout",
    [("layer", "sum", "last"), ("none", "mean", "concat"), ("batch", "attention", "last")],
)
def test_options(norm, pool, readout, nci_smiles):
    model = build_backbone(
        {"name": "gine", **SMALL, "norm": norm, "pool": pool, "readout": readout, "residual": False}
    )
    assert model(model.collate(nci_smiles[:5])).shape == (5, 24)


def test_rows_are_independent_of_batch_composition(nci_smiles):
    """In eval mode a molecule's embedding does not depend on its batch neighbours."""
    torch.manual_seed(0)
    model = build_backbone({"name": "gine", **SMALL, "norm": "batch"}).eval()
    with torch.no_grad():
        full = model(model.collate(nci_smiles[:6]))
        part = model(model.collate(nci_smiles[3:6]))
        single = model(model.collate([nci_smiles[4]]))
    torch.testing.assert_close(full[3:], part, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(full[4:5], single, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("threads", [1, 2])
def test_gine_no_grad_path_equals_pyg_forward(nci_smiles, threads):
    """Without autograd GINE skips PyG's propagate; it must give PyG's numbers."""
    from molmtd.backbones import gnn

    torch.manual_seed(0)
    model = build_backbone({"name": "gine", "num_layers": 3, "readout": "concat"}).eval()
    for conv in model.convs:  # a non-zero eps, as after training
        conv.eps.data.fill_(0.3)
    batch = model.collate(nci_smiles[:40])
    calls = []
    original = gnn._gine_no_grad
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gnn._gine_no_grad = lambda *a: calls.append(1) or original(*a)
        with torch.no_grad():
            fused = model(batch)
        reference = model(batch).detach()  # autograd on: PyG's GINEConv.forward
    finally:
        gnn._gine_no_grad = original
        torch.set_num_threads(previous)
    assert len(calls) == 3
    torch.testing.assert_close(fused, reference, atol=1e-6, rtol=1e-6)


def test_invalid_smiles_names_index_and_smiles(nci_smiles):
    model = build_backbone({"name": "gine", **SMALL})
    with pytest.raises(ValueError, match=r"index 2.*'C1CC\(N'"):
        model.collate([nci_smiles[0], nci_smiles[1], "C1CC(N", nci_smiles[2]])
    with pytest.raises(ValueError, match=r"index 1.*no atoms"):
        model.collate(["CCO", ""])
    with pytest.raises(ValueError, match="index 0"):
        model.collate([3.5])


def test_accepts_rdkit_mols(nci_smiles):
    from rdkit import Chem

    model = build_backbone({"name": "gin", **SMALL}).eval()
    with torch.no_grad():
        a = model(model.collate(nci_smiles[:3]))
        b = model(model.collate([Chem.MolFromSmiles(s) for s in nci_smiles[:3]]))
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("name", GNNS)
def test_config_round_trip_and_determinism(name, nci_smiles):
    torch.manual_seed(1)
    a = build_backbone({"name": name, **SMALL, "readout": "concat"})
    torch.manual_seed(1)
    b = build_backbone(a.config)
    assert a.config == b.config and a.config["name"] == name
    assert str(a) == str(b)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], rtol=0, atol=0)
    a.eval(), b.eval()
    batch = a.collate(nci_smiles[:9])
    with torch.no_grad():
        torch.testing.assert_close(a(batch), b(batch), rtol=0, atol=0)
        torch.testing.assert_close(a(batch), a(a.collate(nci_smiles[:9])), rtol=0, atol=0)


def test_default_gine_size():
    model = build_backbone(
        {
            "name": "gine",
            "hidden": 300,
            "num_layers": 5,
            "dim": 512,
            "readout": "concat",
            "mlp_ratio": 1.0,
        }
    )
    n = sum(p.numel() for p in model.parameters())
    assert 1_000_000 <= n <= 3_000_000


def test_collator_cache_and_pickle(nci_smiles):
    col = GraphCollator(cache_size=3)
    first = col(nci_smiles[:5])
    assert len(col._cache) == 3  # LRU bounded
    again = col(nci_smiles[:5])
    for key in ("x", "edge_index", "edge_attr", "batch", "ptr"):
        assert torch.equal(first[key], again[key])
    clone = pickle.loads(pickle.dumps(col))
    assert clone.cache_size == 3 and len(clone._cache) == 0
    assert torch.equal(clone(nci_smiles[:5]).x, first.x)


def test_unknown_options_raise():
    with pytest.raises(ValueError, match="pool"):
        build_backbone({"name": "gine", "pool": "max"})
    with pytest.raises(ValueError, match="divisible"):
        build_backbone({"name": "gatv2", "hidden": 30, "heads": 4})
