"""``molmtd teachers list | build | info``: inspect teachers and build teacher stores."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from molmtd.cli.base import Subcommand


class TeachersCommand(Subcommand):
    """``molmtd teachers list | build | info``."""

    name = "teachers"
    help = "list teachers, build teacher stores"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="teachers_command", required=True)
        p_list = sub.add_parser("list", help="registered teachers: name, family, dim")
        p_list.add_argument(
            "--no-dim", action="store_true", help="do not instantiate teachers to read their dim"
        )
        p_list.set_defaults(action=cmd_list)
        _add_build_parser(sub)
        p_info = sub.add_parser("info", help="print the build report of a store")
        p_info.add_argument("store", type=Path)
        p_info.add_argument("--json", action="store_true", help="print manifest.json instead")
        p_info.set_defaults(action=cmd_info)

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        return args.action(args)


def _add_build_parser(sub: Any) -> None:
    """``molmtd teachers build`` and its options."""
    p_build = sub.add_parser(
        "build",
        help="embed a corpus with teachers into a store (resumable: rerun to continue)",
        description=(
            "Build (or resume) a TeacherStore. Rerunning the same command after an interruption "
            "computes only the missing chunks."
        ),
    )
    p_build.add_argument(
        "--corpus",
        required=True,
        help="moses | moses-test | zinc250k | path to .smi/.txt/.csv[.gz]",
    )
    p_build.add_argument("--n", type=int, default=None, help="number of molecules (default all)")
    p_build.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the corpus permutation (-1: file order); see molmtd.data.corpus",
    )
    p_build.add_argument("--smiles-col", default=None, help="SMILES column of a CSV corpus")
    p_build.add_argument(
        "--standardize",
        choices=("none", "largest_fragment", "parent"),
        default="none",
        help="standardise each molecule before canonicalisation (molmtd.standardize); a "
        "student trained on the store records it, and its Featurizer applies the same",
    )
    p_build.add_argument(
        "--teachers",
        required=True,
        help="comma-separated teacher names (see `teachers list`); NAME-pcaK projects NAME onto "
        "its top K principal components, fitted on the corpus (--fit-n)",
    )
    p_build.add_argument("--out", required=True, type=Path, help="store directory")
    p_build.add_argument("--n-jobs", type=int, default=1, help="worker processes (default 1)")
    p_build.add_argument(
        "--limit",
        default="",
        help="per-teacher row limits, e.g. ani=5000,usrcat=5000 (rows beyond are masked)",
    )
    p_build.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    p_build.add_argument("--chunk-size", type=int, default=1024, help="rows per chunk file")
    p_build.add_argument(
        "--fit-n",
        type=int,
        default=5000,
        help="molecules used to fit requires_fit teachers (e.g. rdkit2d scaling); 0 = all",
    )
    p_build.add_argument(
        "--teacher-kwargs",
        default="{}",
        help='JSON {name: {kwarg: value}} passed to get_teacher, e.g. \'{"morgan": {"radius": 3}}\'',
    )
    p_build.add_argument("--executor", choices=("process", "dask"), default="process")
    p_build.add_argument("--scheduler", default=None, help="Dask scheduler address (dask)")
    p_build.add_argument(
        "--overwrite",
        action="store_true",
        help="replace teachers already in the store (needed when their config changed)",
    )
    p_build.add_argument("--no-progress", action="store_true", help="no progress bars")
    p_build.set_defaults(action=cmd_build)


def parse_limits(text: str) -> dict[str, int]:
    """``"ani=5000,usrcat=5000"`` -> ``{"ani": 5000, "usrcat": 5000}``."""
    out: dict[str, int] = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"bad --limit entry {item!r}; expected name=N")
        out[name.strip()] = int(value)
    return out


def cmd_list(args: argparse.Namespace) -> int:
    """``molmtd teachers list``: name, family and width of every registered teacher."""
    from molmtd.teachers.base import get_teacher, list_teachers

    rows = []
    for name, family in list_teachers().items():
        dim: Any = "-"
        if not args.no_dim:
            try:
                dim = get_teacher(name).dim
            except Exception as err:  # e.g. hf_smiles needs a checkpoint path
                dim = f"? ({type(err).__name__})"
        rows.append((name, family, str(dim)))
    width = max((len(r[0]) for r in rows), default=4)
    print(f"{'name':<{width}}  {'family':<12} dim")
    for name, family, dim in rows:
        print(f"{name:<{width}}  {family:<12} {dim}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """``molmtd teachers build``: create or resume a store and embed the corpus with each teacher."""
    from molmtd.data.corpus import load_corpus
    from molmtd.store import StoreError, TeacherStore, build_teacher, format_report
    from molmtd.teachers.base import get_teacher, list_teachers, teacher_family

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    names = [t.strip() for t in args.teachers.split(",") if t.strip()]
    unknown = [t for t in names if teacher_family(t) is None]
    if unknown:
        print(
            f"unknown teachers {unknown}; known: {sorted(list_teachers())} "
            "(and <teacher>-pca<k>: its top k principal components)",
            file=sys.stderr,
        )
        return 2
    limits = parse_limits(args.limit)
    bad = sorted(set(limits) - set(names))
    if bad:
        print(f"--limit names teachers not in --teachers: {bad}", file=sys.stderr)
        return 2
    kwargs = json.loads(args.teacher_kwargs)
    teachers = [get_teacher(t, **kwargs.get(t, {})) for t in names]

    t0 = time.perf_counter()
    seed = None if args.seed == -1 else args.seed
    corpus = load_corpus(
        args.corpus, n=args.n, seed=seed, smiles_col=args.smiles_col, standardize=args.standardize
    )
    print(f"corpus loaded in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    meta = {**corpus.report.as_dict(), "n_requested": args.n}
    if (args.out / "manifest.json").is_file():
        store = TeacherStore.open(args.out)
        if store.smiles != list(corpus):
            print(
                f"{args.out} holds a store for other molecules than --corpus {args.corpus} "
                f"--n {args.n} --seed {args.seed} --standardize {args.standardize}; "
                "use a new --out",
                file=sys.stderr,
            )
            return 2
        print(f"resuming store {args.out}", file=sys.stderr)
    else:
        store = TeacherStore.create(
            args.out,
            corpus,
            dtype=args.dtype,
            chunk_size=args.chunk_size,
            canonicalize=False,  # load_corpus already canonicalised
            metadata=meta,
        )
    if store.dtype != args.dtype:
        print(f"note: store dtype is {store.dtype} (--dtype {args.dtype} ignored)", file=sys.stderr)
    for teacher in teachers:
        try:
            build_teacher(
                store,
                teacher,
                n_jobs=args.n_jobs,
                limit=limits.get(teacher.name),
                executor=args.executor,
                scheduler=args.scheduler,
                fit_n=None if args.fit_n == 0 else args.fit_n,
                overwrite=args.overwrite,
                progress=not args.no_progress,
            )
        except StoreError as err:  # config mismatch, concurrent build, dead workers
            print(f"error: {err}", file=sys.stderr)
            print(format_report(store))
            return 2
    print(format_report(store))
    print(f"total {time.perf_counter() - t0:.1f}s")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """``molmtd teachers info STORE``: the build report (or manifest) of a store."""
    from molmtd.store import TeacherStore, format_report

    store = TeacherStore.open(args.store)
    if args.json:
        print(json.dumps(store.manifest, indent=1))
    else:
        print(format_report(store))
    return 0
