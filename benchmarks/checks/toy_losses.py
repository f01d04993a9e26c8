"""NLL vs MSE vs cosine students on the two-teacher toy (molmtd.synthetic).

Losses: the Gaussian-kernel NLL, beta-NLL (beta 0.5 and 1), MSE and cosine.
Teacher 1 sees latent half z1 with little noise; teacher 2 sees z2 with heteroscedastic noise
(sd ``noise_loud`` on half of the samples). Reports linear-probe R² of z1 and z2 from the
student embedding, mean over seeds, on samples never used for distillation.

    python benchmarks/checks/toy_losses.py --seeds 3 --out benchmarks/results/toy_losses/toy_losses.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

from molmtd.synthetic import gaussian_mi_experiment, two_teacher_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--noise", default="0.1,1,4,20", help="comma-separated noise_loud values")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument(
        "--losses",
        default="nll,beta-nll,beta-nll:beta=1,mse,cosine",
        help="comma-separated loss specs, NAME[:key=value] (molmtd.synthetic.parse_loss_spec)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/toy_losses/toy_losses.csv")
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []
    for noise in (float(v) for v in args.noise.split(",")):
        res = two_teacher_experiment(
            losses=tuple(args.losses.split(",")),
            steps=args.steps,
            seeds=tuple(range(args.seeds)),
            noise_loud=noise,
        )
        for loss, scores in res.items():
            rows.append({"noise_loud": noise, "loss": loss, **scores})
            print(
                f"noise_loud={noise:5.1f} {loss:7s} R2(z1)={scores['r2_z1']:.3f} "
                f"R2(z2)={scores['r2_z2']:.3f}",
                flush=True,
            )
    gauss = gaussian_mi_experiment()
    print(
        f"gaussian: H(T|S) true {gauss.h_t_given_s_true:.3f} est {gauss.h_t_given_s_est:.3f}; "
        f"I(S;T) true {gauss.mi_true:.3f} est {gauss.mi_est:.3f}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False, float_format="%.4f")
    args.out.with_suffix(".md").write_text(table.to_markdown(index=False, floatfmt=".3f") + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
