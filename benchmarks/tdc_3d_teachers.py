"""3D teachers on the TDC ADMET group, sharing one conformer per molecule across teachers.

``molmtd benchmark`` embeds task by task and teacher by teacher; with the default conformer
cache (2,048 molecules) every 3D teacher would generate its own conformers for the larger
tasks. This wrapper enlarges the process-wide cache first, so conformers are generated once
per molecule and reused by usrcat, rdkit3d, ANI and E3FP. Any other ``molmtd benchmark``
option passes through::

    python benchmarks/tdc_3d_teachers.py --reps usrcat,rdkit3d,ani2x,ani \\
        --tasks caco2_wang,hia_hou --out runs/bench3d
"""

from __future__ import annotations

import sys

from molmtd.cli import main
from molmtd.teachers.conformers import set_conformer_cache_size

if __name__ == "__main__":
    set_conformer_cache_size(40_000)
    raise SystemExit(main(["benchmark", "--suite", "tdc-admet", "--head", "mlp", *sys.argv[1:]]))
