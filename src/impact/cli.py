"""Command line: ``impact run evaluation.toml``, ``impact demo``, ``impact simulate``.

``impact demo`` runs a whole evaluation on the bundled synthetic registers (``data/synthetic``
in a source checkout; regenerated in memory with the same seed otherwise, which gives the same
data byte for byte) and writes an HTML report.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from ._errors import ImpactError

BUNDLED_SEED = 2022
BUNDLED_N_POOL = 20_000
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "data" / "synthetic"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="impact", description="Evaluate labour-market programmes with register data.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the evaluation described in a TOML file and write its report")
    r.add_argument("config", help="evaluation file (TOML); see impact.config for the keys")
    r.add_argument("--out", default=None, help="report folder (overrides [report] out)")
    d = sub.add_parser("demo", help="run a whole evaluation on the bundled synthetic data and write a report")
    d.add_argument("--out", default="reports/demo", help="folder for the report (default: reports/demo)")
    d.add_argument("--data", default=None, help="folder with registers.csv and truth.csv (default: bundled)")
    s = sub.add_parser("simulate", help="write synthetic registers with a known true effect")
    s.add_argument("--seed", type=int, default=BUNDLED_SEED)
    s.add_argument("--n-pool", type=int, default=BUNDLED_N_POOL)
    s.add_argument("--out", default="data/synthetic")
    return p


def _load_demo_data(folder: str | None):
    from .synthetic import read_synthetic, simulate
    path = Path(folder) if folder else BUNDLED_DIR
    if (path / "registers.csv").exists():
        print(f"Reading synthetic registers from {path}")
        return read_synthetic(path)
    if folder:
        raise ImpactError(f"No registers.csv in {path}.")
    print(f"Generating synthetic registers (seed {BUNDLED_SEED}, {BUNDLED_N_POOL} people)")
    return simulate(BUNDLED_N_POOL, random_state=BUNDLED_SEED)


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    from .evaluation import evaluate
    from .report import write_report
    sim = _load_demo_data(args.data)
    ev = evaluate(sim.registers, sim.roles, truth=sim.truth, random_state=0)
    print()
    print(ev.flow.table().to_string())
    print()
    print("Headline effects (participants vs matched controls, 95% CI):")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(ev.effects.headline().to_string())
    path = write_report(ev, args.out, title="Malmökraften-style evaluation (synthetic data)")
    print(f"\nReport written to {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .config import read_config, read_table
    from .evaluation import evaluate
    from .report import write_report
    cfg = read_config(args.config)
    data = read_table(cfg.data_path)
    print(f"Read {len(data)} rows from {cfg.data_path.name}")
    ev = evaluate(data, cfg.roles, date_format=cfg.date_format, **cfg.evaluate_kwargs)
    print(ev.flow.table().to_string())
    print(ev.effects.headline().to_string())
    out = args.out or cfg.report["out"]
    path = write_report(ev, out, title=cfg.report["title"], threshold=cfg.report["threshold"])
    print(f"Report written to {path}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from .synthetic import simulate, write_synthetic
    sim = simulate(args.n_pool, random_state=args.seed)
    for p in write_synthetic(sim, args.out):
        print(f"wrote {p}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return {"run": _run, "demo": _demo, "simulate": _simulate}[args.command](args)
    except ImpactError as exc:
        print(f"impact: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
