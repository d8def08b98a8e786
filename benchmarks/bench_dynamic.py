"""The dynamic (risk-set) evaluation from files to effects, timed step by step.

    python benchmarks/bench_dynamic.py                # Malmö scale: 40,000 persons over 58 months
    python benchmarks/bench_dynamic.py --sizes 40000 200000
    python benchmarks/bench_dynamic.py --national     # + 1,000,000 persons: risk sets and matching only

Steps: write the extract as CSV (not timed), read it through an evaluation file (``[registers]``)
and check it, build the monthly risk sets, match (``match_riskset``: exact on month, gender and
elapsed-time band, nearest neighbour on the propensity score), outcomes from the spells, effects
for all, women and men (``estimate_effects`` without Fine-Gray), and the whole ``impact.run``
including the unknown-exit sensitivity and the report. Peak memory is tracemalloc's peak of the
risk sets + matching step (tracemalloc slows that step down: files_to_effects_s is measured without it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

TOML = """\
seed = 1
[registers]
persons = "persons.csv"
spells = "spells.csv"
programme = "programme.csv"
benefits = "benefits.csv"
cutoff = "2022-10-31"
[design]
method = "riskset"
estimand = "join_vs_never"
[outcomes]
horizons = [90, 180, 365]
[report]
out = "report"
"""


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def bench(n: int, months: int, full: bool) -> dict:
    import impact
    from impact.pipeline import _registers as R
    from impact.pipeline import read_config, read_registers, run
    from impact.registers import outcomes_from_spells, risk_sets
    from impact.synthetic import simulate_extract, write_extract

    folder = Path(tempfile.mkdtemp())
    sim, t_gen = _timed(simulate_extract, n, months=months, random_state=1)
    write_extract(sim, folder)
    (folder / "eval.toml").write_text(TOML, encoding="utf-8")
    row: dict = dict(persons=n, months=months, spells=len(sim.extract.spells), participants=len(sim.extract.programme),
                     generate_s=t_gen)
    ext, row["read_check_s"] = _timed(lambda: read_registers(read_config(folder / "eval.toml")))
    rs = risk_sets(ext)
    _, row["risk_sets_s"] = _timed(rs.to_frame)
    tracemalloc.start()
    parts, row["riskset_match_s"] = _timed(R.run_registers, ext, estimand="join_vs_never", covariates=None, exact=None,
                                           elapsed_band=60, elapsed_bands=8, caliper=0.2, ratio=1,
                                           reuse="across_periods", period="month", random_state=0)
    row["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    row["person_periods"] = len(parts["panel"])
    row["analysed"] = len(parts["analysed"])
    _, row["outcomes_s"] = _timed(outcomes_from_spells, ext, parts["matching"].matched_data.assign(
        index_date=parts["analysed"]["index_date"].iloc[0]), unregistered="keep")
    _, row["effects_s"] = _timed(R.effects_of, parts["analysed"], "gender", horizons=(90, 180, 365), conf_level=0.95,
                                 random_state=0, subdistribution=False)
    if full:
        _, row["files_to_effects_s"] = _timed(lambda: impact.evaluate(read_registers(read_config(folder / "eval.toml")),
                                                                      sensitivity=False))
        _, row["impact_run_s"] = _timed(run, folder / "eval.toml")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[40_000])
    ap.add_argument("--national", action="store_true", help="also 1,000,000 persons over 60 months (no report)")
    args = ap.parse_args()
    rows = [bench(n, 58, full=True) for n in args.sizes]
    if args.national:
        rows.append(bench(1_000_000, 60, full=False))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.2f}".format):
        print(table.to_string(index=False))
    print("\nfiles_to_effects_s: read + check the extract, risk sets, matching, outcomes, effects (impact.evaluate, "
          "sensitivity off); impact_run_s: the whole `impact run` with the unknown-exit sensitivity and the report.")


if __name__ == "__main__":
    main()
