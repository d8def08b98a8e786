"""Covariate balance before and after matching or weighting, with MatchIt's conventions.

:func:`balance` works on any data, treatment and weights (from :func:`impact.match`, from
weighting, or your own). Its numbers equal MatchIt's ``summary(m, standardize = TRUE)`` for the
same estimand:

* means are weighted means within each group;
* the standardised mean difference (SMD) divides the (weighted) difference in means by a standard
  deviation computed in the *full sample before matching* (unweighted, or with sampling weights):
  the treated group's SD for the ATT, the control group's for the ATC, the square root of the mean
  of the two variances for the ATE (cobalt's "pooled", equal contribution). For a binary (0/1)
  covariate the SD is ``sqrt(p (1 - p))`` with ``p`` the group's proportion (no n - 1); a
  difference smaller than ``sqrt(machine epsilon)`` is reported raw, as MatchIt does;
* variance ratio = weighted variance of treated / weighted variance of controls, with MatchIt's
  weighted variance ``sum(w (x - m)^2) / (1 - sum(w^2))`` for normalised weights; blank (NaN) for
  binary covariates;
* eCDF mean and max: the mean and the maximum over the distinct values of the covariate of the
  absolute difference between the (weighted) empirical CDFs of treated and controls (the max is
  the Kolmogorov-Smirnov statistic); for a binary covariate both equal the absolute difference in
  proportions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError, data_error
from impact._validation import InstanceOf, Options, check_columns, check_params, check_treatment, validate_params
from impact.labels import LANGS, LabelMap, Lang

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["balance", "BalanceResult", "balance_table"]

Estimand = Literal["ATT", "ATC", "ATE"]
_EPS = float(np.sqrt(np.finfo(float).eps))
DEFAULT_THRESHOLDS: dict[str, float] = {"smd": 0.1, "var_ratio": 2.0}


def _is_binary(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    return float(np.dot(w, x) / sw) if sw > 0 else float("nan")


def _wvar(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    """MatchIt's ``wvar``: ``p (1-p)`` for binary, else ``sum(w (x-m)^2) / (1 - sum(w^2))``."""
    sw = w.sum()
    if sw <= 0:
        return float("nan")
    wn = w / sw
    m = float(np.dot(wn, x))
    if binary:
        return m * (1 - m)
    denom = 1.0 - float(np.dot(wn, wn))
    if denom <= 0:
        return float("nan")
    return float(np.dot(wn, (x - m) ** 2) / denom)


def _ecdf_stats(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Mean and max over distinct values of |F_treated - F_control| (weighted eCDFs)."""
    w1 = np.where(t, w, 0.0)
    w0 = np.where(~t, w, 0.0)
    s1, s0 = w1.sum(), w0.sum()
    if s1 <= 0 or s0 <= 0:
        return float("nan"), float("nan")
    signed = w1 / s1 - w0 / s0
    order = np.argsort(x, kind="stable")
    xo = x[order]
    cs = np.abs(np.cumsum(signed[order]))
    last = np.r_[xo[1:] != xo[:-1], True]
    diffs = cs[last]
    return float(diffs.mean()), float(diffs.max())


def _sd_denominator(x: np.ndarray, t: np.ndarray, sw: np.ndarray, estimand: str,
                    binary: bool) -> float:
    v1 = _wvar(x[t], sw[t], binary)
    v0 = _wvar(x[~t], sw[~t], binary)
    pooled = float(np.sqrt((v1 + v0) / 2))
    sd = {"ATT": np.sqrt(v1), "ATC": np.sqrt(v0), "ATE": pooled}[estimand]
    if not np.isfinite(sd) or sd < _EPS:
        sd = pooled
    return float(sd)


def _one_sample(x: np.ndarray, t: np.ndarray, w: np.ndarray, sd: float,
                binary: bool) -> dict[str, float]:
    mt = _wmean(x[t], w[t])
    mc = _wmean(x[~t], w[~t])
    diff = mt - mc
    smd = diff if (abs(diff) <= _EPS or not np.isfinite(sd) or sd < _EPS) else diff / sd
    if binary:
        vr = float("nan")
        em = ex = abs(diff)
    else:
        vc = _wvar(x[~t], w[~t], False)
        vr = _wvar(x[t], w[t], False) / vc if vc > 0 else float("nan")
        em, ex = _ecdf_stats(x, t, w)
    return {"mean_treated": mt, "mean_control": mc, "smd": smd, "var_ratio": vr,
            "ecdf_mean": em, "ecdf_max": ex}


def _expand(data: pd.DataFrame, covariates: Sequence[str], squares: bool,
            interactions: bool) -> tuple[np.ndarray, list[str]]:
    from impact.data import expand_covariates, is_categorical

    X, names = expand_covariates(data, covariates, reference=False)
    extra_cols, extra_names = [], []
    if squares:
        for j, nm in enumerate(names):
            if not _is_binary(X[:, j]):
                extra_cols.append(X[:, j] ** 2)
                extra_names.append(f"{nm}^2")
    if interactions:
        # which original covariate each expanded column comes from, so levels of one factor
        # are not multiplied with each other
        origin = []
        for c in covariates:
            if is_categorical(data[c]):
                origin += [c] * sum(1 for n in names if n.startswith(f"{c}["))
            else:
                origin.append(c)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                if origin[a] != origin[b]:
                    extra_cols.append(X[:, a] * X[:, b])
                    extra_names.append(f"{names[a]} * {names[b]}")
    if extra_cols:
        X = np.column_stack([X, *extra_cols])
        names = names + extra_names
    return X, names


def balance_table(X: np.ndarray, names: Sequence[str], treated: np.ndarray,
                  weights: np.ndarray | None, *, estimand: str = "ATT",
                  s_weights: np.ndarray | None = None) -> pd.DataFrame:
    """The balance table on a ready numeric matrix (the engine behind :func:`balance`)."""
    t = np.asarray(treated, dtype=bool)
    sw = np.ones(len(t)) if s_weights is None else np.asarray(s_weights, dtype=float)
    rows = []
    for j, nm in enumerate(names):
        x = X[:, j]
        binary = _is_binary(x)
        sd = _sd_denominator(x, t, sw, estimand, binary)
        row: dict[str, Any] = {"covariate": nm, "type": "binary" if binary else "continuous",
                               "sd_denominator": sd}
        for k, v in _one_sample(x, t, sw, sd, binary).items():
            row[f"{k}_before"] = v
        if weights is not None:
            for k, v in _one_sample(x, t, weights * sw, sd, binary).items():
                row[f"{k}_after"] = v
        rows.append(row)
    df = pd.DataFrame(rows).set_index("covariate")
    stats = ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"]
    cols = ["type"] + [f"{s}_before" for s in stats]
    if weights is not None:
        cols += [f"{s}_after" for s in stats]
    return df[cols + ["sd_denominator"]]


@dataclass(frozen=True)
class BalanceResult:
    """Covariate balance before and after matching or weighting.

    Attributes
    ----------
    table : DataFrame
        One row per covariate (categorical covariates expanded to one row per level, named
        ``column[level]``), columns ``type``, ``mean_treated_before``, ``mean_control_before``,
        ``smd_before``, ``var_ratio_before``, ``ecdf_mean_before``, ``ecdf_max_before``, the same
        with ``_after`` when weights were given, and ``sd_denominator``.
    estimand : str
    thresholds : dict
        ``{"smd": 0.1, "var_ratio": 2.0}`` by default; ``summary()`` flags covariates beyond them.
    sample_sizes : DataFrame
        Treated and control counts (and effective sizes) before and after.
    notes : tuple of str
        The conventions used, stated once.
    """

    table: pd.DataFrame
    estimand: str
    thresholds: Mapping[str, float]
    sample_sizes: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_after(self) -> bool:
        return "smd_after" in self.table.columns

    def summary(self) -> pd.DataFrame:
        """The table plus ``balanced_smd`` / ``balanced_var_ratio`` flags (after, else before)."""
        df = self.table.copy()
        when = "after" if self.has_after else "before"
        df["balanced_smd"] = df[f"smd_{when}"].abs() <= self.thresholds["smd"]
        vr = df[f"var_ratio_{when}"]
        hi = self.thresholds["var_ratio"]
        df["balanced_var_ratio"] = vr.isna() | ((vr <= hi) & (vr >= 1 / hi))
        return df

    @property
    def max_abs_smd(self) -> float:
        """Largest absolute SMD after (or, without weights, before)."""
        col = "smd_after" if self.has_after else "smd_before"
        return float(self.table[col].abs().max())

    def __repr__(self) -> str:
        when = "after" if self.has_after else "before"
        n_bad = int((~self.summary()["balanced_smd"]).sum())
        return (f"BalanceResult({len(self.table)} covariates, estimand={self.estimand}, max |SMD| "
                f"{when} {self.max_abs_smd:.3f}, {n_bad} above {self.thresholds['smd']})")

    def _repr_html_(self) -> str:
        head = "<p><b>Balance</b> (estimand " + self.estimand + ")</p>"
        notes = "".join(f"<li>{n}</li>" for n in self.notes)
        return (head + self.summary().to_html(float_format=lambda v: f"{v:.4f}")
                + "<p>Sample sizes</p>" + self.sample_sizes.to_html()
                + f"<ul>{notes}</ul>")

    def plot(self, ax: "Axes | None" = None, *, absolute: bool = True, lang: Lang = "en",
             labels: LabelMap | None = None) -> "Axes":
        """Love plot: SMD before (open circles) and after (filled) for every covariate.

        Returns the Axes; draws a dashed line at the SMD threshold. ``lang`` ("en" or "sv") is the
        language of the axis, the legend and the covariate names (:func:`impact.labels.covariate_label`,
        with the user's ``labels`` or those of the enclosing :func:`impact.labels.use_labels` block).
        """
        import matplotlib.pyplot as plt

        from impact.labels import covariate_label, label
        check_params("BalanceResult.plot", {"lang": [Options(LANGS)]}, {"lang": lang})
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.3 * len(self.table) + 1.5))
        tab = self.table.iloc[::-1]
        y = np.arange(len(tab))
        f = np.abs if absolute else (lambda v: v)
        ax.scatter(f(tab["smd_before"]), y, facecolors="none", edgecolors="C3",
                   label="before" if lang == "en" else label("before_matching", lang))
        if self.has_after:
            ax.scatter(f(tab["smd_after"]), y, color="C0",
                       label="after" if lang == "en" else label("after_matching", lang))
        thr = self.thresholds["smd"]
        ax.axvline(thr, ls="--", color="grey", lw=1)
        if not absolute:
            ax.axvline(-thr, ls="--", color="grey", lw=1)
        ax.axvline(0, color="black", lw=0.5)
        ax.set_yticks(y)
        names = [str(c) for c in tab.index]
        ax.set_yticklabels([label("balance_distance", lang) if c == "distance" else
                            covariate_label(c, lang, labels=labels) for c in names])
        ax.set_xlabel(label("axis_abs_smd" if absolute else "axis_smd", lang))
        ax.set_title(label("title_love_plot", lang))
        ax.legend(loc="lower right", frameon=False)
        return ax


def _sample_sizes(t: np.ndarray, w: np.ndarray | None) -> pd.DataFrame:
    def ess(v: np.ndarray) -> float:
        s2 = float(np.dot(v, v))
        return float(v.sum() ** 2 / s2) if s2 > 0 else 0.0

    data: dict[str, list[float]] = {"all": [int((~t).sum()), int(t.sum())]}
    if w is not None:
        data["matched_or_weighted"] = [int((w[~t] > 0).sum()), int((w[t] > 0).sum())]
        data["effective"] = [ess(w[~t]), ess(w[t])]
    return pd.DataFrame(data, index=["control", "treated"]).T


COLUMNS = "columns"  # a name, or a list, tuple, pandas Index or 1-D array of names


#: the parameter table of :func:`balance`
BALANCE_PARAMS: dict[str, list[Any]] = {
    "data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
    "treatment": ["column"],
    "covariates": [COLUMNS],
    "weights": ["column", InstanceOf((np.ndarray, pd.Series, list, tuple), "an array of weights"), None],
    "estimand": [Options(["ATT", "ATC", "ATE"])],
    "s_weights": ["column", None],
    "squares": ["boolean"],
    "interactions": ["boolean"],
    "thresholds": [InstanceOf(Mapping, "a mapping {'smd': ..., 'var_ratio': ...}"), None],
    "extra": [InstanceOf(Mapping, "a mapping {name: values}"), None],
}


@validate_params(BALANCE_PARAMS)
def balance(data: pd.DataFrame, treatment: str, covariates: Sequence[str],
            weights: str | np.ndarray | pd.Series | None = None, *,
            estimand: Estimand = "ATT", s_weights: str | None = None,
            squares: bool = False, interactions: bool = False,
            thresholds: Mapping[str, float] | None = None,
            extra: Mapping[str, np.ndarray] | None = None) -> BalanceResult:
    """Balance of covariates between treated and controls, before and after weighting.

    Parameters
    ----------
    data : DataFrame
        The whole sample before matching (units that a match dropped carry weight 0).
    treatment : str
        0/1 (or boolean) column; 1 = treated.
    covariates : sequence of str
        Numeric, boolean or categorical columns; categorical ones (object, string, category) get
        one row per level, named ``column[level]``.
    weights : str, array or None
        Matching or weighting weights (a column name or an array over the rows of ``data``);
        ``None`` gives the "before" columns only.
    estimand : {"ATT", "ATC", "ATE"}
        Chooses the SD in the SMD's denominator (treated, control, pooled). R: ``s.d.denom``.
    s_weights : str, optional
        Column of sampling weights, used in both samples and in the SD.
    squares, interactions : bool
        Also check squares of continuous covariates and two-way products (as cobalt's
        ``int = TRUE, poly = 2``).
    thresholds : mapping, optional
        ``{"smd": 0.1, "var_ratio": 2.0}`` by default.
    extra : mapping, optional
        More variables to check, e.g. ``{"distance": score}``; listed first.

    Returns
    -------
    BalanceResult

    Notes
    -----
    R equivalent: ``summary(matchit(...), standardize = TRUE)`` (or cobalt's
    ``bal.tab(..., binary = "std", s.d.denom = ...)``). See the module docstring for each formula.

    Examples
    --------
    >>> from impact.datasets import load_lalonde
    >>> from impact.diagnostics import balance
    >>> df = load_lalonde()
    >>> b = balance(df, "treat", ["age", "educ", "race", "re74"])
    >>> list(b.table.index)
    ['age', 'educ', 'race[black]', 'race[hispan]', 'race[white]', 're74']
    >>> round(float(b.table.loc["age", "smd_before"]), 4)
    -0.3094
    """
    cols = [treatment, *covariates] + ([s_weights] if s_weights else [])
    if isinstance(weights, str):
        cols.append(weights)
    check_columns(data, cols)
    t = check_treatment(data[treatment], treatment).to_numpy().astype(bool)
    for c in covariates:
        na = data[c].isna().to_numpy()
        if na.any():
            raise data_error(c, "covariates must not be missing", na,
                             f"Drop or impute them first, e.g. df = df.dropna(subset=['{c}']).")
    w: np.ndarray | None
    if weights is None:
        w = None
    else:
        w = (data[weights] if isinstance(weights, str) else pd.Series(np.asarray(weights))
             ).to_numpy(dtype=float)
        if len(w) != len(data):
            raise ParameterError(f"The 'weights' parameter of balance has {len(w)} values but the "
                                 f"data have {len(data)} rows.")
        if (~np.isfinite(w)).any() or (w < 0).any():
            raise data_error(weights if isinstance(weights, str) else "weights",
                             "weights must be finite and >= 0", ~np.isfinite(w) | (w < 0))
    sw = None if s_weights is None else data[s_weights].to_numpy(dtype=float)
    X, names = _expand(data, covariates, squares, interactions)
    if extra:
        X = np.column_stack([*[np.asarray(v, dtype=float) for v in extra.values()], X])
        names = [*extra.keys(), *names]
    if t.all() or not t.any():
        raise DataError(f"Column '{treatment}': balance needs both treated and control rows; "
                        f"all {len(t)} rows are {'treated' if t.all() else 'controls'}.",
                        column=treatment, rule="both groups present")
    tab = balance_table(X, names, t, w, estimand=estimand, s_weights=sw)
    thr = dict(DEFAULT_THRESHOLDS)
    if thresholds:
        thr.update(thresholds)
    denom = {"ATT": "the SD of the treated group", "ATC": "the SD of the control group",
             "ATE": "the pooled SD sqrt((var_treated + var_control) / 2)"}[estimand]
    notes = (
        f"SMD = difference in (weighted) means / {denom} in the full sample before matching "
        f"(estimand {estimand}, as MatchIt's summary()); for binary covariates the SD is "
        "sqrt(p(1-p)).",
        "Variance ratios use MatchIt's weighted variance and are blank for binary covariates; "
        "eCDF mean/max are over the distinct values of each covariate (max = KS statistic).",
        f"Thresholds: |SMD| <= {thr['smd']}, variance ratio within [1/{thr['var_ratio']}, "
        f"{thr['var_ratio']}].",
    )
    return BalanceResult(tab, estimand, thr, _sample_sizes(t, w), notes)
