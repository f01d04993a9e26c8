"""3D teachers on the TDC ADMET group, sharing one conformer per molecule across teachers.

``molmtd benchmark`` embeds task by task and teacher by teacher; with the default conformer
cache (2,048 molecules) every 3D teacher would generate its own conformers for the larger
tasks. This wrapper enlarges the process-wide cache first, so conformers are generated once
per molecule and reused by usrcat, rdkit3d, ANI and E3FP. Any other ``molmtd benchmark``
option passes through::

    python benchmarks/tdc_3d_teachers.py --reps usrcat,rdkit3d,ani2x,ani \\
        --tasks caco2_wang,hia_hou --out runs/bench3d

``--embed-timeout S`` limits each ETKDG attempt to S seconds (RDKit's
``EmbedParameters.timeout``): a molecule that runs past it is masked (``conformer_failed``)
instead of stalling the run. The limit enters the 3D teachers' configs, so their embeddings
are cached apart from those computed without one; the count of timed-out molecules is
printed at the end.
"""

from __future__ import annotations

import argparse
import sys

from molmtd.cli import main
from molmtd.teachers.conformers import (
    conformer_stats,
    set_conformer_cache_size,
    set_default_embed_timeout,
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--embed-timeout", type=int, default=0)
    args, rest = parser.parse_known_args(sys.argv[1:])
    set_conformer_cache_size(40_000)
    set_default_embed_timeout(args.embed_timeout)
    rc = main(["benchmark", "--suite", "tdc-admet", "--head", "mlp", *rest])
    stats = conformer_stats()
    print(
        f"[conformers] generated {stats['generated']}, failed {stats['failed']} "
        f"(timed out {stats['timed_out']}, limit {args.embed_timeout or 'none'} s)"
    )
    raise SystemExit(rc)
