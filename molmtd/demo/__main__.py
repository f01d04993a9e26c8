"""``python -m molmtd.demo`` (what ``make demo`` runs): ``molmtd demo``."""

from molmtd.cli.demo import main

raise SystemExit(main())
