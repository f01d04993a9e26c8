"""``python -m molmtd.cli`` (what ``torchrun -m molmtd.cli distill ...`` runs)."""

import sys

from molmtd.cli.main import main

sys.exit(main())
