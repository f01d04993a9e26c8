"""benchmarks/speed/profile_training.py: which stage a sampled stack is charged to."""

from __future__ import annotations

from script_loader import load_script


def test_stacks_go_to_the_first_matching_stage():
    stage_of = load_script("benchmarks/speed/profile_training.py").stage_of
    step = "main;Distiller._train_step;"
    assert stage_of(step + "Distiller._checkpoint;save").startswith("validation")
    assert stage_of(step + "Distiller._validate;forward").startswith("validation")
    assert stage_of(step + "torch/optim/adamw.py:step").startswith("optimizer")
    assert stage_of(step + "clip_grad_norm_").startswith("optimizer")
    # a GINE layer's Linear is its MLP; the rest of the layer is message passing
    mlp = stage_of(step + "MolGNN.forward;GINEConv.forward;Linear.forward")
    messages = stage_of(step + "MolGNN.forward;GINEConv.forward;propagate")
    assert mlp == "forward: GINE MLPs (Linear)"
    assert messages == "forward: GINE messages and aggregation"
    assert stage_of("main;something_else") == "other"
