"""Fill a shipped model's card with what the committed benchmark results say about it.

Writes two blocks into ``molmtd/models/NAME/card.json`` (the rest of the card, written by
:func:`molmtd.models.ship_model`, is kept):

- ``teacher_report``: held-out linear-probe R² of each teacher from the model's embedding
  next to the random-init control, read from ``benchmarks/results/teacher_report/default_candidates/probe.csv``
  by default (``bash benchmarks/suites/teacher_report.sh`` with those models);
- ``benchmark``: the model's mean test rank among every representation of the full TDC ADMET
  table, its win/tie/loss against ECFP4, and the mean *validation* rank among the candidate
  students it was chosen from (``benchmarks/tools/valid_ranks.py``'s numbers), read from
  ``benchmarks/results/tdc_admet/results_mlp.csv`` (``bash benchmarks/suites/tdc_suite.sh``); under
  ``other_suites``, its mean rank and win/tie/loss in the paper protocol and MoleculeNet
  results that hold it (``paper_suite.sh``, ``moleculenet_suite.sh``).

Every number comes from the CSVs (the teacher report's command from the ``report.md`` beside
its ``probe.csv``); only the one-line verdict is prose::

    python benchmarks/release/model_card.py zinc200k-gine-fp-mse \\
        --candidates student:zinc200k-gine-fp-bnll,student:runs/zinc200k-mse,... \\
        --probe benchmarks/results/teacher_report/default_candidates/probe.csv --verdict "Default model: ..."
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from molmtd.evaluate.report import mean_ranks, summarize, validation_rank_table, win_tie_loss
from molmtd.models import CARD_FILE, MODELS_DIR
from molmtd.utils import write_json

RESULTS = Path("benchmarks/results")
CONTROL = "random-student:zinc200k"
OTHER_SUITES = {
    "paper": (
        "bash benchmarks/suites/paper_suite.sh",
        "28 TDC ADMET/Tox sets (molalkit CSVs), random 80/10/10 split per seed, MLP head, seeds 1-5",
    ),
    "moleculenet": (
        "bash benchmarks/suites/moleculenet_suite.sh",
        "9 MoleculeNet sets, scaffold split 80/10/10, MLP head, seeds 1-5",
    ),
}


def report_command(probe_csv: Path) -> str:
    """The command line recorded in the teacher report beside ``probe_csv``."""
    report = probe_csv.parent / "report.md"
    if report.is_file():
        for line in report.read_text().splitlines():
            if line.startswith("Command: `"):
                return line.removeprefix("Command: `").rstrip("`")
    return "bash benchmarks/suites/teacher_report.sh"


def teacher_report_block(probe_csv: Path, rep: str, control: str = CONTROL) -> dict:
    """Per-teacher probe R² of ``rep`` and of the random-init ``control``."""
    probe = pd.read_csv(probe_csv)
    r2 = probe.pivot_table(index="teacher", columns="representation", values="r2_pooled")
    if rep not in r2.columns:
        raise SystemExit(
            f"{probe_csv} has no rows for {rep}: run benchmarks/suites/teacher_report.sh"
        )
    order = list(dict.fromkeys(probe["teacher"]))
    return {
        "what": "held-out linear-probe R² of each teacher from the frozen embedding (pooled over "
        "z-scored dimensions), next to a random-init student of the same architecture",
        "data": "3,000 held-out ZINC250k molecules (200,000-202,999 of the seed-0 permutation)",
        "command": report_command(probe_csv),
        "results": str(probe_csv.parent) + "/",
        "r2": {
            t: {
                "student": round(float(r2.loc[t, rep]), 3),
                "random_init": round(float(r2.loc[t, control]), 3)
                if control in r2.columns
                else None,
            }
            for t in order
            if t in r2.index and pd.notna(r2.loc[t, rep])
        },
    }


def benchmark_block(
    results_csv: Path,
    rep: str,
    candidates: list[str],
    verdict: str,
    extra: list[Path] | None = None,
    extra_command: str | None = None,
) -> dict:
    """Mean test rank over all representations and validation rank among ``candidates``.

    ``extra``: result CSVs of the same protocol kept outside the table (a model measured
    after it), joined to it here; ``extra_command`` is how they were made.
    """
    extra = extra or []
    results = pd.concat([pd.read_csv(p) for p in [results_csv, *extra]], ignore_index=True)
    summary = summarize(results)
    ranks = mean_ranks(summary).round(2)
    wtl = win_tie_loss(summary, reference="ecfp").set_index("rep")
    valid = validation_rank_table(results, candidates).mean().round(2)
    command = "bash benchmarks/suites/tdc_suite.sh"
    if extra:
        command += f"; this model's rows, beside the table: {extra_command}"
    return {
        "command": command,
        "protocol": "TDC ADMET group, all 22 tasks, official test sets, TDC scaffold train/valid "
        "split per seed, MLP head selected on valid, seeds 1-5",
        "results": str(results_csv.parent / "report_mlp.md"),
        **({"results_of_this_model": [str(p) for p in extra]} if extra else {}),
        "this_model": rep,
        f"mean_rank_of_{len(ranks)}": ranks.to_dict(),
        "mean_rank": float(ranks[rep]),
        "win_tie_loss_vs_ecfp": [int(x) for x in wtl.loc[rep, ["win", "tie", "loss"]]],
        "mean_validation_rank_among_candidates": valid.to_dict(),
        "other_suites": other_suites_block(results_csv.parents[1], rep),
        "verdict": verdict,
    }


def other_suites_block(results_dir: Path, rep: str) -> dict:
    """Mean rank (and rdkit2d's) and win/tie/loss vs ECFP4 in each other suite holding ``rep``."""
    block = {}
    for suite, (command, protocol) in OTHER_SUITES.items():
        csv = results_dir / suite / "results_mlp.csv"
        if not csv.is_file():
            continue
        summary = summarize(pd.read_csv(csv))
        ranks = mean_ranks(summary).round(2)
        if rep not in ranks:
            continue
        wtl = win_tie_loss(summary, reference="ecfp").set_index("rep")
        block[suite] = {
            "command": command,
            "protocol": protocol,
            f"mean_rank_of_{len(ranks)}": float(ranks[rep]),
            "rdkit2d": float(ranks["rdkit2d"]) if "rdkit2d" in ranks else None,
            "win_tie_loss_vs_ecfp": [int(x) for x in wtl.loc[rep, ["win", "tie", "loss"]]],
            "results": str(csv.parent / "report_mlp.md"),
        }
    return block


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="shipped model folder under molmtd/models")
    parser.add_argument("--candidates", required=True, help="students it was chosen among")
    parser.add_argument("--verdict", required=True)
    parser.add_argument("--results", type=Path, default=RESULTS / "tdc_admet" / "results_mlp.csv")
    parser.add_argument(
        "--probe",
        type=Path,
        default=RESULTS / "teacher_report" / "default_candidates" / "probe.csv",
    )
    parser.add_argument(
        "--extra-results",
        type=Path,
        nargs="*",
        default=[],
        help="result CSVs of the same protocol kept outside the table, ranked with it",
    )
    parser.add_argument("--extra-command", help="the command that wrote --extra-results")
    parser.add_argument(
        "--control", default=CONTROL, help="random-init control of the same architecture"
    )
    args = parser.parse_args(argv)
    if args.extra_results and not args.extra_command:
        parser.error("--extra-results needs --extra-command")
    rep = f"student:{args.name}"
    candidates = [c.strip() for c in args.candidates.split(",") if c.strip()]
    if rep not in candidates:
        candidates.insert(0, rep)
    path = MODELS_DIR / args.name / CARD_FILE
    card = json.loads(path.read_text())
    card["teacher_report"] = teacher_report_block(args.probe, rep, args.control)
    card["benchmark"] = benchmark_block(
        args.results, rep, candidates, args.verdict, args.extra_results, args.extra_command
    )
    write_json(path, card)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
