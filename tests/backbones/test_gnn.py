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
        build_backbone({"name": "gine", "pool": "median"})
    with pytest.raises(ValueError, match="pool"):
        build_backbone({"name": "gine", "pool": "mean+mean"})
    with pytest.raises(ValueError, match="sum_scale"):
        build_backbone({"name": "gine", "pool": "sum", "sum_scale": 0})
    with pytest.raises(ValueError, match="rw_steps"):
        build_backbone({"name": "gine", "rw_steps": -1})
    with pytest.raises(ValueError, match="divisible"):
        build_backbone({"name": "gatv2", "hidden": 30, "heads": 4})


def _dense_return_probs(smiles: str, steps: int) -> np.ndarray:
    """(P^k)[v, v] for k = 1..steps with P = D^-1 A, from RDKit's adjacency matrix."""
    from rdkit import Chem

    A = Chem.GetAdjacencyMatrix(Chem.MolFromSmiles(smiles)).astype(np.float64)
    P = A / np.maximum(A.sum(1, keepdims=True), 1)
    power, cols = P.copy(), []
    for _ in range(steps):
        cols.append(np.diag(power))
        power = power @ P
    return np.stack(cols, 1)


def test_random_walk_return_probs_equal_dense_matrix_powers(nci_smiles):
    from molmtd.backbones.gnn import random_walk_return_probs

    # a lone atom, a salt, a molecule of 120 atoms (its own size group) and NCI molecules
    smiles = ["C", "[Na+].[Cl-]", "C" * 120, *nci_smiles[:60]]
    model = build_backbone({"name": "gine", **SMALL})
    batch = model.collate(smiles)
    rw = random_walk_return_probs(batch.edge_index, batch.batch, batch.num_graphs, 6).numpy()
    expected = np.concatenate([_dense_return_probs(s, 6) for s in smiles])
    np.testing.assert_allclose(rw, expected, atol=1e-6)
    assert rw[0].sum() == 0  # an isolated atom never returns


def test_rw_features_enter_the_network_and_round_trip(nci_smiles):
    torch.manual_seed(0)
    config = {"name": "gine", **SMALL, "rw_steps": 8, "pool": "mean+sum"}
    model = build_backbone(config).eval()
    assert model.config["rw_steps"] == 8 and model.config["sum_scale"] == 32.0
    again = build_backbone(model.config).eval()
    again.load_state_dict(model.state_dict())
    batch = model.collate(nci_smiles[:8])
    with torch.no_grad():
        out = model(batch)
        torch.testing.assert_close(out, again(batch))
        model.rw_encoder.weight.mul_(2)  # the encoding is used: changing it moves the rows
        assert not torch.allclose(out, model(batch))


def test_sum_pool_carries_size_and_mean_pool_does_not():
    """Two disconnected copies of a molecule: same mean, twice the (scaled) sum."""
    torch.manual_seed(0)
    model = build_backbone({"name": "gine", **SMALL, "pool": "mean+sum", "readout": "last"})
    model.eval()
    batch = model.collate(["CCO", "CCO.CCO"])
    with torch.no_grad():
        h = model.node_states(batch)[-1]
        pooled = model._pool(h, batch.batch, 2, 0)
    mean, summed = pooled[:, :16], pooled[:, 16:]
    torch.testing.assert_close(mean[0], mean[1])
    torch.testing.assert_close(summed[1], 2 * summed[0])
    # the scaled sum is the plain sum over the default scale of 32 heavy atoms
    torch.testing.assert_close(summed[0] * 32, h[batch.batch == 0].sum(0))


def test_configs_of_earlier_students_are_unchanged():
    """Keys added for new options are written only when used (stored metas stay equal)."""
    config = build_backbone({"name": "gine", **SMALL}).config
    assert "sum_scale" not in config and "rw_steps" not in config


def test_vocabulary_is_ogbs_own():
    """The atom/bond vocabularies are read from ogb.utils.features, not copied."""
    from ogb.utils.features import allowable_features, get_atom_feature_dims

    from molmtd.backbones.features import ALLOWABLE_FEATURES, ATOM_FEATURE_DIMS

    assert ALLOWABLE_FEATURES == allowable_features
    assert ATOM_FEATURE_DIMS == get_atom_feature_dims()


def test_batched_graphs_equal_ogb_smiles2graph_on_thousands_of_molecules():
    """Every NCI molecule that OGB featurises: the batched decoder's graph is OGB's graph."""
    from ogb.utils import smiles2graph
    from rdkit import Chem

    from molmtd.backbones.features import canonical_mol, mols_to_graphs
    from molmtd.data.paths import package_file
    from molmtd.utils import rdkit_quiet

    lines = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().splitlines()
    with rdkit_quiet():
        pairs = [(s, Chem.MolFromSmiles(s)) for s in (ln.split()[0] for ln in lines if ln.strip())]
        pairs = [(s, m) for s, m in pairs if m is not None and m.GetNumAtoms()]
        used = [canonical_mol(m, s) for s, m in pairs]
        graphs = mols_to_graphs(used)
    assert len(pairs) > 4000
    checked = 0
    for (smi, mol), mol_used, ours in zip(pairs, used, graphs):
        # the graph follows the input's atom order, or the canonical SMILES' where the input's
        # order would change stereo features (canonical_mol)
        ref = smiles2graph(smi if mol_used is mol else Chem.MolToSmiles(mol))
        for key, ref_key in (("x", "node_feat"), ("edge_index", "edge_index"), ("edge_attr", "edge_feat")):
            np.testing.assert_array_equal(ours[key], ref[ref_key], err_msg=f"{smi}: {key}")
        checked += 1
    assert checked == len(pairs)


def test_rw_features_under_bfloat16_autocast(nci_smiles):
    """precision="bfloat16" (and "auto" on CPUs with bf16) runs the forward under autocast."""
    torch.manual_seed(0)
    model = build_backbone({"name": "gine", **SMALL, "rw_steps": 8, "pool": "mean+sum"}).eval()
    batch = model.collate(nci_smiles[:6])
    with torch.inference_mode():
        exact = model(batch)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = model(batch)
    assert fast.dtype == torch.bfloat16
    torch.testing.assert_close(fast.float(), exact, atol=0.1, rtol=0.05)
