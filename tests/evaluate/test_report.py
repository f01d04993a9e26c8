"""Ranks, win/tie/loss and the markdown/plots on a tiny hand-made results table."""

from __future__ import annotations

import pandas as pd
import pytest

from molmtd.evaluate.report import (
    better_counts,
    markdown_report,
    mean_ranks,
    mean_scores,
    rank_table,
    summarize,
    validation_rank_table,
    win_tie_loss,
    write_report,
)


def _results() -> pd.DataFrame:
    rows = []
    # task A: MAE (lower better): ecfp 1.0, x 0.5, y 2.0 -> ranks ecfp 2, x 1, y 3
    # task B: AUROC (higher better): ecfp 0.8, x 0.7, y 0.8 -> ecfp/y tie at 1.5, x 3
    table = {
        ("A", "mae", False): {"ecfp": [0.9, 1.1], "x": [0.45, 0.55], "y": [1.9, 2.1]},
        ("B", "auroc", True): {"ecfp": [0.79, 0.81], "x": [0.69, 0.71], "y": [0.7, 0.9]},
    }
    for (task, metric, hib), reps in table.items():
        for rep, scores in reps.items():
            for seed, s in enumerate(scores, 1):
                rows.append(
                    {
                        "task": task,
                        "rep": rep,
                        "seed": seed,
                        "metric": metric,
                        "higher_is_better": hib,
                        "score": s,
                        "n_test": 10,
                        "n_invalid_test": 0,
                        "n_invalid_train": 0,
                    }
                )
    return pd.DataFrame(rows)


def test_ranks():
    s = summarize(_results())
    ranks = rank_table(s)
    assert ranks.loc["A"].to_dict() == {"ecfp": 2.0, "x": 1.0, "y": 3.0}
    assert ranks.loc["B"].to_dict() == {"ecfp": 1.5, "x": 3.0, "y": 1.5}
    mr = mean_ranks(s)
    assert mr.to_dict() == pytest.approx({"ecfp": 1.75, "x": 2.0, "y": 2.25})
    assert list(mr.index) == ["ecfp", "x", "y"]


def test_validation_ranks_use_valid_scores_not_test():
    res = _results()
    # validation reverses task A's test order (lower MAE is better): y best, ecfp, then x
    res["valid_score"] = res["rep"].map({"ecfp": 1.0, "x": 2.0, "y": 0.5})
    res.loc[res["task"] == "B", "valid_score"] = res["rep"].map({"ecfp": 0.6, "x": 0.9, "y": 0.7})
    ranks = validation_rank_table(res, ["x", "y"])
    assert list(ranks.columns) == ["x", "y"]
    assert ranks.loc["A"].to_dict() == {"x": 2.0, "y": 1.0}
    assert ranks.loc["B"].to_dict() == {"x": 1.0, "y": 2.0}
    with pytest.raises(ValueError, match="without results"):
        validation_rank_table(res, ["x", "nope"])


def test_better_counts_follow_the_metric_direction():
    # A (MAE): x 0.5 beats ecfp 1.0 and y 2.0; B (AUROC): x 0.7 loses to ecfp 0.8 and y 0.8
    counts = better_counts(summarize(_results()), "x")
    assert counts.loc["ecfp"].tolist() == [1, 2] and counts.loc["y"].tolist() == [1, 2]
    counts = better_counts(summarize(_results()), "ecfp")
    assert counts.loc["x"].tolist() == [1, 2] and counts.loc["y"].tolist() == [1, 2]
    partial = summarize(_results().query("not (task == 'B' and rep == 'y')"))
    assert better_counts(partial, "x").loc["y"].tolist() == [1, 1]


def test_win_tie_loss():
    s = summarize(_results())
    wtl = win_tie_loss(s, "ecfp").set_index("rep")
    # x: A wins (0.5 vs 1.0, stds 0.07/0.14 do not overlap), B loses (0.7 vs 0.8)
    assert wtl.loc["x"].to_dict() == {"win": 1, "tie": 0, "loss": 1}
    # y: A loses, B ties (0.8 ± 0.14 overlaps 0.8 ± 0.014)
    assert wtl.loc["y"].to_dict() == {"win": 0, "tie": 1, "loss": 1}


def test_markdown_and_files(tmp_path):
    res = _results()
    md = markdown_report(summarize(res), "t")
    assert "**0.500 ± 0.071**" in md  # best MAE in bold
    assert "| ecfp | 1.75 |" in md
    paths = write_report(res, tmp_path, "mlp", "t")
    for p in paths.values():
        assert p.is_file() and p.stat().st_size > 0
    assert paths["ranks_png"].read_bytes()[:4] == b"\x89PNG"


def test_leaderboard_comparison(tmp_path):
    from molmtd.evaluate.report import leaderboard_comparison

    ref = tmp_path / "ref.csv"
    ref.write_text("task,entry,mean,std\nA,pub,0.7,0.1\nB,pub,0.75,0.01\n")
    md = leaderboard_comparison(summarize(_results()), ref)
    assert "| A | mae ↓ | 1.000 ± 0.141 |" in md
    # ecfp: A 1.0 vs 0.7 (MAE, worse), B 0.8 vs 0.75 (AUROC, better) -> 1/2
    assert "- ecfp better than pub (mean) on 1/2 tasks" in md
    assert "- x better than pub (mean) on 1/2 tasks" in md


def test_mean_scores_only_common_scale_metrics_and_complete_tasks():
    res = _results()
    extra = res[(res["task"] == "B") & (res["rep"] != "y")].assign(task="C")  # y missing on C
    s = summarize(pd.concat([res, extra]))
    table = mean_scores(s)
    assert list(table.index) == ["auroc"]  # MAE is not averaged across tasks
    assert table.loc["auroc", "n_tasks"] == 1  # C lacks y, so only B counts
    assert table.loc["auroc", "x"] == pytest.approx(0.70)
    assert table.loc["auroc", "y"] == pytest.approx(0.80)
    assert "## Mean score per metric" in markdown_report(s, "t")


def test_minimol_overlap_tasks_are_marked_and_ranked_without():
    """cyp*_veith, tox21, hiv (MiniMol's pre-training may hold their assays): a dagger, a second rank."""
    from molmtd.evaluate.report import overlaps_minimol_pretraining

    res = _results()
    res.loc[res["task"] == "B", "task"] = "cyp2d6_veith"
    md = markdown_report(summarize(res), "t")
    assert "| cyp2d6_veith † |" in md and "| A |" in md
    # ranks: A alone -> x 1, ecfp 2, y 3; with cyp2d6_veith: x (1+3)/2, ecfp (2+1.5)/2, y (3+1.5)/2
    assert "| x | 2.00 | 1.00 |" in md and "| ecfp | 1.75 | 2.00 |" in md
    assert "| y | 2.25 | 3.00 |" in md
    assert overlaps_minimol_pretraining("CYP1A2_Veith") and not overlaps_minimol_pretraining(
        "cyp2c9_substrate_carbonmangels"
    )
    assert overlaps_minimol_pretraining("tox21") and overlaps_minimol_pretraining("hiv")
    assert not any(map(overlaps_minimol_pretraining, ("sider", "clintox", "hiv_like", "bbbp")))
    assert "without †" not in markdown_report(summarize(_results()), "t")
