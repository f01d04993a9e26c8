"""``python -m molmtd``: the ``molmtd`` command line."""

import sys

from molmtd.cli import main

sys.exit(main())
