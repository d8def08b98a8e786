"""Command line: ``impact run evaluation.toml``, ``impact demo``, ``impact simulate``.

``impact demo`` runs a whole evaluation on the bundled synthetic register extract
(``data/synthetic``: persons, registration spells, programme starts and economic-assistance months,
in a source checkout; regenerated in memory with the same seed otherwise, which gives the same
data byte for byte) with the dynamic (risk-set) design, together with synthetic monitoring records
and the goals of Malmökraften 2.0, and writes the report.

Exit codes: 0 success; 2 a bad evaluation file, a missing or unreadable file, a column that is
not in the data, or data that break a rule (the message names the key, file, column or rule);
1 an unexpected error (with its traceback: please report it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

from impact._errors import ImpactError
from impact._validation import InstanceOf, validate_params

BUNDLED_SEED = 2022
BUNDLED_N_POOL = 20_000      # the one-row-per-person generator (impact simulate --table)
BUNDLED_N_PERSONS = 20_000   # persons in the bundled register extract
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "data" / "synthetic"

#: the goals of Malmökraften 2.0 (SWECO's goal-fulfilment table), used by ``impact demo``
DEMO_GOALS: list[dict[str, Any]] = [
    {"kind": "count", "name": "participants", "target": 4000},
    {"kind": "outcome_count", "name": "to_work_or_studies", "target": 1800},
    {"kind": "share", "name": "needs_clarified", "target": 0.9, "column": "joint_plan", "among": "outcome",
     "among_values": ["other"]},
    {"kind": "gender_balance", "name": "gender_balance_participants", "tolerance": 0.10},
    {"kind": "gender_balance", "name": "gender_balance_to_work", "column": "outcome", "values": ["to_work"]},
    {"kind": "manual", "name": "method_support", "judgement": "achieved"},
    {"kind": "share", "name": "fk_enhanced_cooperation", "target": 0.75, "column": "enhanced_cooperation",
     "among": "referred_by_fk"},
    {"kind": "before_after", "name": "fewer_on_benefits",
     "pairs": {"social_assistance": ["social_assistance_start", "social_assistance_end"],
               "sickness_benefit": ["sickness_benefit_start", "sickness_benefit_end"]}},
]

_EPILOG = """\
examples:
  impact demo                          whole evaluation on synthetic data -> reports/demo/report.html
  impact demo --lang sv --out rapport  the same report in Swedish
  impact simulate --registers --out mydata
                                       a synthetic register extract (persons, spells, programme,
                                       benefits) and its true effects as CSV
  impact run evaluation.toml           the evaluation a TOML file describes (see docs/guide.md)

exit codes: 0 done; 2 bad evaluation file, unreadable file, missing column or invalid data
(the message names the key, file, column or rule); 1 unexpected error; 130 interrupted.
"""

_RUN_HELP = """\
Run the evaluation described in a TOML file and write its report.

A register extract: [registers] (persons, spells, programme, benefits, cutoff; file options sep,
decimal, thousands, encoding, sheet), [registers.columns], [outcomes.codes] (code = "event" |
"competing" | "censored") and [design] method = "riskset", estimand = "join_vs_never" or
"join_vs_wait". One row per person instead: [data] (path to .csv, .xlsx, .parquet, .dta, .sav or
.sas7bdat) and [columns] (id, treatment, start, exit_date, exit_type, cutoff, subgroup,
covariates; [columns.values] recodes values). Optionally [design], [outcomes], [effects],
[monitoring], [[goals]] and [report], plus seed and lang at the top. Unknown keys are errors
with the nearest valid key suggested. See docs/guide.md.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="impact", formatter_class=_Formatter, epilog=_EPILOG,
        description="Evaluate labour-market programmes with register data: a matched comparison "
                    "group, time to work or studies, effects for all, women and men, goal "
                    "fulfilment and monitoring tables, in one report (HTML, CSV, Excel).")
    from impact._version import __version__
    p.add_argument("--version", action="version", version=f"impact {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,demo,simulate}")
    r = sub.add_parser("run", help="run the evaluation described in a TOML file and write its report",
                       description=_RUN_HELP, formatter_class=_Formatter)
    r.add_argument("config", help="evaluation file (TOML)")
    r.add_argument("--out", default=None, help="report folder (overrides [report] out)")
    r.add_argument("--quiet", action="store_true", help="no progress bar and no tables on screen")
    d = sub.add_parser("demo", help="run a whole evaluation on synthetic data and write a report",
                       description="Run a whole evaluation on the bundled synthetic registers, with "
                                   "synthetic monitoring records and the goals of Malmökraften 2.0, "
                                   "and write the report.", formatter_class=_Formatter)
    d.add_argument("--out", default="reports/demo", help="folder for the report")
    d.add_argument("--data", default=None, help="folder with persons.csv, spells.csv, programme.csv, "
                   "benefits.csv and truth.csv (default: bundled)")
    d.add_argument("--estimand", default="join_vs_never", choices=["join_vs_never", "join_vs_wait"],
                   help="joining versus never joining, or joining now versus waiting")
    d.add_argument("--lang", default="en", choices=["en", "sv"], help="language of the report")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser("simulate", help="write a synthetic register extract with a known true effect",
                       description="Write a synthetic register extract (persons.csv, spells.csv, programme.csv, "
                                   "benefits.csv, truth.csv) with a known true effect for women and men "
                                   "(--registers, the default); --table writes one row per person instead "
                                   "(registers.csv, truth.csv); with --monitoring also synthetic monitoring "
                                   "records (participants.csv, employments.csv, households.csv, "
                                   "household_exits.csv).", formatter_class=_Formatter)
    kind = s.add_mutually_exclusive_group()
    kind.add_argument("--registers", dest="table", action="store_false",
                      help="a register extract (default)")
    kind.add_argument("--table", dest="table", action="store_true", help="one row per person")
    s.add_argument("--seed", type=int, default=BUNDLED_SEED, help="random seed")
    s.add_argument("--n-persons", type=int, default=BUNDLED_N_PERSONS, help="persons in the register extract")
    s.add_argument("--n-pool", type=int, default=BUNDLED_N_POOL, help="people in the pool of job seekers (--table)")
    s.add_argument("--out", default="data/synthetic", help="folder to write to")
    s.add_argument("--monitoring", action="store_true", help="also write synthetic monitoring records")
    return p


def load_bundled(folder: str | None = None) -> Any:
    """The bundled synthetic register extract (``data/synthetic``), or the same drawn in memory.

    Returns a :class:`impact.synthetic.SyntheticExtract` (``.extract``, ``.truth``).
    """
    from impact.synthetic import EXTRACT_FILES, read_extract, simulate_extract
    path = Path(folder) if folder else BUNDLED_DIR
    if all((path / n).exists() for n in EXTRACT_FILES):
        return read_extract(path)
    if folder:
        raise ImpactError(f"{path} is not a register extract: it needs {', '.join(EXTRACT_FILES)} "
                          "(write one with: impact simulate --registers --out FOLDER).")
    return simulate_extract(BUNDLED_N_PERSONS, random_state=BUNDLED_SEED)


def _load_demo_data(folder: str | None) -> Any:
    path = Path(folder) if folder else BUNDLED_DIR
    print(f"Reading the synthetic register extract from {path}")
    return load_bundled(folder)


def _print_results(ev: Any) -> None:
    import pandas as pd
    print()
    if getattr(ev, "design", None) == "riskset":
        print(f"Design: risk-set (dynamic) matching, estimand {ev.settings['estimand']}")
    print(ev.flow.table().to_string())
    print()
    print("Headline effects (participants vs matched controls, 95% CI):")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(ev.effects.headline().to_string())
        if ev.goals is not None:
            print()
            print(ev.goals.table[["goal", "target", "measured", "judgement"]].to_string(index=False))


def _demo(args: argparse.Namespace) -> int:
    from impact.pipeline import evaluate
    from impact.report import write_report
    from impact.synthetic import simulate_monitoring
    sim = _load_demo_data(args.data)
    print("Generating synthetic monitoring records (seed 0)")
    records = simulate_monitoring(random_state=0)
    ev = evaluate(sim.extract, estimand=args.estimand, truth=sim.truth, random_state=0,
                  goals=DEMO_GOALS, monitoring=records, monitoring_start="2022-01-01",
                  monitoring_end="2022-10-31", lang=args.lang, progress=not args.quiet)
    _print_results(ev)
    title = ("Malmökraften-liknande utvärdering (syntetiska data)" if args.lang == "sv"
             else "Malmökraften-style evaluation (synthetic data)")
    path = write_report(ev, args.out, title=title)
    print(f"\nReport written to {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from impact.pipeline import run
    ev = run(args.config, out=args.out, progress=not args.quiet)
    if not args.quiet:
        _print_results(ev)
    print(f"Report written to {ev.report_path}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    if args.table:
        from impact.synthetic import simulate, write_synthetic
        paths = write_synthetic(simulate(args.n_pool, random_state=args.seed), args.out)
    else:
        from impact.synthetic import simulate_extract, write_extract
        paths = write_extract(simulate_extract(args.n_persons, random_state=args.seed), args.out)
    for p in paths:
        print(f"wrote {p}")
    if args.monitoring:
        from impact.synthetic import simulate_monitoring
        rec = simulate_monitoring(random_state=args.seed)
        out = Path(args.out)
        for name in ("participants", "employments", "households", "household_exits"):
            df = getattr(rec, name)
            if name == "households":
                df = df.assign(month=df["month"].astype(str))
            df.to_csv(out / f"{name}.csv", index=False, date_format="%Y-%m-%d")
            print(f"wrote {out / f'{name}.csv'}")
    return 0


@validate_params({"argv": [InstanceOf((list, tuple), "a list of str"), None]})
def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``impact`` command; returns the exit code.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a bad configuration, file, column or data (message on stderr),
        1 for an unexpected error, 130 when interrupted.

    Examples
    --------
    >>> main(["run", "no-such-file.toml"])
    2
    """
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return {"run": _run, "demo": _demo, "simulate": _simulate}[args.command](args)
    except ImpactError as exc:
        print(f"impact: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("impact: interrupted", file=sys.stderr)
        return 130
    except Exception:  # an unexpected error: show where, and ask for a report
        traceback.print_exc()
        print("impact: unexpected error (a bug in impact?): please report it with the traceback above.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
