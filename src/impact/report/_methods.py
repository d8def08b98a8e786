"""The methods text (what was done, in words, from the settings) and the versions line of the footer."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

from impact.labels import Lang, covariate_label, format_number, label
from impact.publish import MARK, PTABLE
from impact.report._protocol import EvaluationLike
from impact.report._tables import covariate_names, distance_in_words, join, lower_first

__all__ = ["methods", "versions"]


def versions() -> str:
    pkgs = ["impact", "numpy", "pandas", "scipy", "statsmodels", "lifelines", "scikit-learn", "matplotlib",
            "openpyxl"]
    out = [f"Python {platform.python_version()}"]
    for p in pkgs:
        try:
            out.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)



def _count(v: object, lang: Lang) -> str:
    """A published count in running text: ``2 617`` (or the withheld mark as it is)."""
    if isinstance(v, str):
        return v
    try:
        return format_number(int(v), lang)  # type: ignore[call-overload]  # a count of the flow table
    except (TypeError, ValueError):
        return str(v)


def methods(evaluation: EvaluationLike, flow_pub: pd.DataFrame, threshold: int, lang: Lang,
            min_effect_n: int = 20, disclosure: str = "threshold", goals_disclosure: str = "threshold") -> list[str]:
    """The methods text, one paragraph a string, from the settings (user labels for the covariates).

    ``disclosure`` is how the monitoring tables were published (``"threshold"`` or ``"cellkey"``),
    ``goals_disclosure`` how the goal table was: the text names the mode of each table and its
    parameters (threshold, the p-table's largest noise), never the cell-key secret.
    """
    s = evaluation.settings
    roles = evaluation.roles
    paras = []
    exact = []
    for c in s.get("exact", []):
        if c == "start_period" and s.get("start_period"):
            exact.append(label(f"start_period_{s['start_period']}", lang))
        else:
            exact.append(lower_first(covariate_label(str(c), lang)))
    covs = covariate_names(list(s.get("covariates", [])), lang)
    exact_text = join(exact, lang) or "-"
    if s.get("method") in ("nearest", "optimal"):
        caliper = s.get("caliper")
        cal = label("methods_no_caliper", lang) if caliper is None else format_number(caliper, lang, 2)
        method = label(f"methods_method_{s['method']}", lang)
        repl = label("methods_with_replacement" if s.get("replace") else "methods_without_replacement", lang)
        paras.append(label("methods_design", lang, ratio=s.get("ratio", 1), method=method, replace=repl,
                           covariates=covs, caliper=cal, exact=exact_text))
    else:
        header = dict(getattr(evaluation.matching, "design_rows", lambda: [])())
        method_key = f"method_{s.get('method')}"
        distance = str(header.get("distance", ""))
        paras.append(label("methods_design_other", lang,
                           method=label(method_key, lang) if method_key in _METHOD_KEYS else
                           header.get("method", s.get("method")),
                           distance=distance_in_words(distance, lang, covariates=False), covariates=covs,
                           exact=exact_text))
    fl = flow_pub.set_index("step")
    treated_all = fl["treated"].iloc[0]
    paras.append(label("methods_sample", lang, n_treated=_count(fl["treated"].iloc[-1], lang),
                       n_treated_all=_count(treated_all, lang), n_control=_count(fl["control"].iloc[-1], lang)))
    paras.append(label("methods_outcome", lang,
                       clock=label(f"methods_clock_{s.get('clock', 'own')}", lang)))
    horizons = join([format_number(h, lang) for h in s.get("horizons", ())], lang)
    paras.append(label("methods_effects", lang, horizons=horizons,
                       subgroup=covariate_names([roles.subgroup], lang) if roles.subgroup else "-"))
    if s.get("se_method") == "bootstrap":
        se = label("methods_se_bootstrap", lang, n_boot=s.get("n_boot"))
    else:
        se = label("methods_se_influence", lang)
    level = f"{s.get('conf_level', 0.95):.0%}".replace("%", " %" if lang == "sv" else "%")
    paras.append(label("methods_uncertainty", lang, level=level, se_method=se))
    if evaluation.goals is not None:
        paras.append(label("methods_goals", lang))
    paras += disclosure_text(evaluation, threshold, lang, disclosure, goals_disclosure)
    paras.append(label("methods_min_effect", lang, n=min_effect_n, threshold=threshold, big=100 * threshold))
    return paras


def disclosure_text(evaluation: EvaluationLike, threshold: int, lang: Lang, disclosure: str = "threshold",
                    goals_disclosure: str = "threshold") -> list[str]:
    """How the report's numbers were protected, from the settings the writer used: the cell-key
    method for the tables it was used for (its largest noise, sums of published cells, the same
    noise for the same people in every release), then threshold suppression for the others."""
    has_goals = evaluation.goals is not None
    has_monitoring = bool(getattr(evaluation, "monitoring", None))
    below = threshold - 1
    paras = []
    cellkey = disclosure == "cellkey" and has_monitoring
    goals_cellkey = has_goals and goals_disclosure == "cellkey"
    if cellkey or goals_cellkey:
        key = "methods_cellkey_tables_goals" if cellkey and goals_cellkey else "methods_cellkey_tables"
        if goals_cellkey and not cellkey:
            key = "goal_table"
        derived = "methods_cellkey_derived_goals" if goals_cellkey else "methods_cellkey_derived"
        paras.append(label("methods_cellkey", lang, tables=label(key, lang), noise=_max_noise(),
                           derived=label(derived, lang)))
    if cellkey or goals_cellkey:
        tables = label("methods_tables_rest_goals" if has_goals and not goals_cellkey else "methods_tables_rest", lang)
    else:
        tables = label("methods_tables_all", lang)
    monthly = label("methods_suppression_monthly", lang) if has_monitoring and not cellkey else ""
    goals = label("methods_suppression_goals", lang, below=below) if has_goals and not goals_cellkey else ""
    if below < 1:   # a threshold of 1 hides nothing
        paras.append(label("methods_no_suppression", lang, tables=tables))
    else:
        paras.append(label("methods_suppression", lang, tables=tables, threshold=threshold, below=below, mark=MARK,
                           monthly=monthly, goals=goals))
    return paras


def _max_noise() -> int:
    """The largest deviation the p-table adds or takes away."""
    return max(abs(int(v)) for row in PTABLE.values() for v in row)


_METHOD_KEYS = ("method_riskset", "method_nearest", "method_optimal", "method_cem", "method_exact",
                "method_subclass", "method_ipw")
