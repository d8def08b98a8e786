"""The methods text (what was done, in words, from the settings) and the versions line of the footer."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

from impact.labels import Lang, format_number, label
from impact.report._protocol import EvaluationLike
from impact.report._tables import join, name

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



_MIN_EFFECT = {
    "en": ("Disclosure control: an effect estimate is published only for groups of at least {n} people in each "
           "arm; a share resting on fewer than {threshold} people (or with fewer than {threshold} without the "
           "event), a value that would give a withheld one back by subtraction, and every difference or test "
           "involving a withheld value are withheld. Means of binary covariates are shown as whole percents, "
           "and only for arms of at least {big} people; otherwise only the standardised difference is shown. "
           "Small drops in the flow are protected like small counts."),
    "sv": ("Röjandekontroll: en effektskattning redovisas bara för grupper med minst {n} personer i varje arm; "
           "en andel som vilar på färre än {threshold} personer (eller där färre än {threshold} saknar "
           "händelsen), ett värde som genom subtraktion skulle ge tillbaka ett dolt värde och varje skillnad "
           "eller test som rör ett dolt värde redovisas inte. Medelvärden för binära kovariater visas i hela "
           "procent och bara för armar med minst {big} personer; annars visas bara den standardiserade "
           "skillnaden. Små bortfall i flödet skyddas som små antal."),
}


def methods(evaluation: EvaluationLike, flow_pub: pd.DataFrame, threshold: int, lang: Lang,
            min_effect_n: int = 20) -> list[str]:
    s = evaluation.settings
    roles = evaluation.roles
    paras = []
    exact = []
    for c in s.get("exact", []):
        if c == "start_period" and s.get("start_period"):
            exact.append(label(f"start_period_{s['start_period']}", lang))
        else:
            exact.append(name(c, lang).lower())
    covs = join([name(c, lang).lower() for c in s.get("covariates", [])], lang)
    exact_text = join(exact, lang) or "-"
    if s.get("method") in ("nearest", "optimal"):
        caliper = s.get("caliper")
        cal = label("methods_no_caliper", lang) if caliper is None else format_number(caliper, lang, 2)
        method = {"nearest": {"en": "nearest-neighbour", "sv": "närmaste granne"},
                  "optimal": {"en": "optimal", "sv": "optimal"}}[s["method"]][lang]
        repl = label("methods_with_replacement" if s.get("replace") else "methods_without_replacement", lang)
        paras.append(label("methods_design", lang, ratio=s.get("ratio", 1), method=method, replace=repl,
                           covariates=covs, caliper=cal, exact=exact_text))
    else:
        header = dict(getattr(evaluation.matching, "design_rows", lambda: [])())
        paras.append(label("methods_design_other", lang, method=header.get("method", s.get("method")),
                           distance=header.get("distance", ""), covariates=covs, exact=exact_text))
    fl = flow_pub.set_index("step")
    treated_all = fl["treated"].iloc[0]
    paras.append(label("methods_sample", lang, n_treated=fl["treated"].iloc[-1], n_treated_all=treated_all,
                       n_control=fl["control"].iloc[-1]))
    paras.append(label("methods_outcome", lang,
                       clock=label(f"methods_clock_{s.get('clock', 'own')}", lang)))
    horizons = join([format_number(h, lang) for h in s.get("horizons", ())], lang)
    paras.append(label("methods_effects", lang, horizons=horizons,
                       subgroup=name(roles.subgroup, lang).lower() if roles.subgroup else "-"))
    if s.get("se_method") == "bootstrap":
        se = label("methods_se_bootstrap", lang, n_boot=s.get("n_boot"))
    else:
        se = label("methods_se_influence", lang)
    level = f"{s.get('conf_level', 0.95):.0%}".replace("%", " %" if lang == "sv" else "%")
    paras.append(label("methods_uncertainty", lang, level=level, se_method=se))
    if evaluation.goals is not None:
        paras.append(label("methods_goals", lang))
    paras.append(label("methods_suppression", lang, threshold=threshold))
    paras.append(_MIN_EFFECT[lang].format(n=min_effect_n, threshold=threshold, big=100 * threshold))
    return paras
