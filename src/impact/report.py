"""One self-contained HTML report (figures embedded) plus every table as CSV.

The report only reads results; it never re-estimates. Counts of people are published with
small-cell suppression (cells under ``threshold`` people, 5 by default), and no identifier
column ever reaches a table.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em 0;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}img{max-width:100%;height:auto}
.note{color:#555;font-size:.9em}.foot{color:#666;font-size:.8em;margin-top:3em}
"""


def _fig_to_img(fig: Any) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _table(df: pd.DataFrame, index: bool = False, digits: int = 3) -> str:
    def fmt(x: Any) -> str:
        if isinstance(x, (float, np.floating)):
            return "" if np.isnan(x) else f"{x:.{digits}f}"
        return html.escape(str(x))
    return df.to_html(index=index, formatters=None, float_format=lambda x: fmt(x), na_rep="",
                      escape=True, border=0)


def suppress_counts(df: pd.DataFrame, threshold: int = 5, **kwargs: Any) -> pd.DataFrame:
    """Publishable copy of a table of counts: cells under ``threshold`` (but not zero) and the
    cells needed to protect them from being recovered from totals are replaced by ``".."``."""
    from .privacy import suppress
    return suppress(df, threshold=threshold, **kwargs).published


def data_fingerprint(data: pd.DataFrame) -> str:
    """SHA-256 of the input table (values and column names), for the reproducibility footer."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, data.columns)).encode())
    h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def _versions() -> str:
    pkgs = ["impact", "numpy", "pandas", "scipy", "statsmodels", "lifelines", "scikit-learn", "matplotlib"]
    out = [f"Python {platform.python_version()}"]
    for p in pkgs:
        try:
            out.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def write_report(evaluation: Any, folder: str | Path, *, title: str = "Programme evaluation",
                 threshold: int = 5) -> Path:
    """Write ``report.html`` and the tables as CSV into ``folder``; return the HTML path.

    Examples
    --------
    >>> import impact, tempfile
    >>> sim = impact.simulate(n_pool=3000, random_state=4)
    >>> ev = impact.evaluate(sim.registers, sim.roles, truth=sim.truth)
    >>> path = write_report(ev, tempfile.mkdtemp())
    >>> path.name
    'report.html'
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    roles = evaluation.roles
    eff = evaluation.effects
    tables: dict[str, pd.DataFrame] = {}

    flow = evaluation.flow.table().drop(columns=["dropped"]).reset_index()
    count_cols = [c for c in ["all", "treated", "control"] if c in flow.columns]
    flow_pub = flow.copy()
    # steps are not additive (no row total); "all" is the total of treated and control
    flow_pub[count_cols] = suppress_counts(flow[count_cols], threshold, total_col="all",
                                           hidden_totals="ignore").astype(str).to_numpy()
    tables["flow"] = flow_pub

    bal = evaluation.balance()
    bal_df = bal.summary() if hasattr(bal, "summary") else pd.DataFrame(bal)
    tables["balance"] = bal_df.reset_index() if bal_df.index.name else bal_df

    effects = eff.summary()
    small = (effects.get("n_treated", pd.Series(np.inf, index=effects.index)) < threshold) | \
            (effects.get("n_control", pd.Series(np.inf, index=effects.index)) < threshold)
    effects_pub = effects.drop(columns=[c for c in effects.columns if c.startswith(("n_", "events_"))])
    est_cols = ["estimate", "se", "ci_low", "ci_high", "p_value"]
    effects_pub.loc[small.to_numpy(), est_cols] = np.nan
    tables["effects"] = effects_pub
    naive = evaluation.naive.summary()
    naive = naive[naive["estimand"].isin(["share_diff", "hazard_ratio"])][["subgroup", "estimand", "horizon", "estimate", "ci_low", "ci_high"]]
    tables["naive_effects"] = naive

    parts = [f"<h1>{html.escape(title)}</h1>"]
    parts.append("<h2>Headline</h2>")
    parts.append(_table(eff.headline(), index=True))
    parts.append("<p class='note'>Share difference: participants minus matched controls, in the share who "
                 "have gone to work or studies by that day. Hazard ratio above 1: participants reach work or "
                 "studies sooner.</p>")

    parts.append("<h2>Who was analysed</h2>")
    parts.append(_table(flow_pub))
    parts.append(f"<p class='note'>Counts under {threshold} people are shown as '..', with further cells "
                 "suppressed where a total would reveal them.</p>")

    parts.append("<h2>Balance of the matched groups</h2>")
    if hasattr(bal, "plot"):
        ax = bal.plot()
        parts.append(_fig_to_img(np.atleast_1d(ax)[0].figure))
    shown = [c for c in ["covariate", "type", "smd_before", "smd_after", "var_ratio_before", "var_ratio_after",
                         "ecdf_max_before", "ecdf_max_after"] if c in tables["balance"].columns]
    parts.append(_table(tables["balance"][shown] if shown else tables["balance"]))
    parts.append("<p class='note'>Standardised mean differences (|SMD| under 0.1 is the usual threshold), "
                 "variance ratios and the largest eCDF distance; all statistics are in balance.csv.</p>")

    parts.append("<h2>Effects</h2>")
    axes = eff.plot(kind="curves")
    parts.append(_fig_to_img(np.atleast_1d(axes)[0].figure))
    axes = eff.plot(kind="forest")
    parts.append(_fig_to_img(np.atleast_1d(axes)[0].figure))
    parts.append(_table(effects_pub))
    parts.append("<h3>For comparison: naive difference without matching</h3>")
    parts.append(_table(naive))

    if evaluation.truth is not None:
        truth = evaluation.truth
        est = effects[effects["estimand"].isin(["share_diff", "hazard_ratio"])]
        cmp = est.merge(truth.rename(columns={"value": "true_value"}), on=["subgroup", "estimand", "horizon"],
                        how="inner")[["subgroup", "estimand", "horizon", "true_value", "estimate", "ci_low", "ci_high"]]
        cmp["covered"] = (cmp["ci_low"] <= cmp["true_value"]) & (cmp["true_value"] <= cmp["ci_high"])
        tables["truth_check"] = cmp
        parts.append("<h2>Check against the known truth (synthetic data)</h2>")
        parts.append(_table(cmp))

    parts.append("<h2>Methods</h2><ul>")
    s = evaluation.settings
    parts.append(f"<li>Design: {html.escape(str(s.get('method')))} matching on a logit propensity score of "
                 f"{', '.join(map(html.escape, s.get('covariates', [])))}; caliper {s.get('caliper')} standard "
                 f"deviations of the score; exact on {', '.join(map(html.escape, s.get('exact', []))) or 'nothing'}; "
                 f"ratio {s.get('ratio')}:1, {'with' if s.get('replace') else 'without'} replacement.</li>")
    for note in list(getattr(evaluation.matching, "notes", ())) + list(eff.notes):
        parts.append(f"<li>{html.escape(str(note))}</li>")
    parts.append("</ul>")
    parts.append("<div class='foot'>")
    parts.append(f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with {html.escape(_versions())}. "
                 f"Seed {s.get('random_state')}. Input fingerprint "
                 f"{data_fingerprint(evaluation.validated.data.drop(columns=[roles.id]))} (SHA-256, identifiers excluded). "
                 f"Settings: {html.escape(repr(s))}.</div>")

    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    plt.close("all")
    return path
