"""``molmtd models``: list the shipped students and their cards."""

from __future__ import annotations

import argparse
import json

from molmtd.cli.base import Subcommand
from molmtd.student.shipped import default_model_name, list_models


class ModelsCommand(Subcommand):
    """``molmtd models [--json]``."""

    name = "models"
    help = "list the shipped student models"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the full model cards")

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        models = list_models()
        if args.json:
            print(json.dumps(models, indent=2))
            return 0
        if not models:
            print("no shipped models")
            return 0
        try:
            default = default_model_name()
        except FileNotFoundError:
            default = None
        for name, card in models.items():
            flag = " (default)" if name == default else ""
            teachers = ", ".join(card.get("teachers", {}))
            print(
                f"{name}{flag}: dim {card.get('dim')}, {card.get('n_parameters')} params, "
                f"corpus {card.get('corpus', {}).get('name')} "
                f"({card.get('corpus', {}).get('n_molecules')} mol); teachers: {teachers}"
            )
        return 0
