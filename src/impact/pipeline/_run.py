"""``run``: an evaluation file in, a written report out -- the only place that calls both
:func:`impact.evaluate` and :func:`impact.write_report`."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from impact._errors import ImpactError, ParameterError
from impact._validation import InstanceOf, validate_params
from impact.pipeline._config import ConfigError, EvaluationConfig, read_config
from impact.pipeline._evaluate import Evaluation, evaluate
from impact.pipeline._files import read_inputs, read_monitoring, read_registers
from impact.publish import cell_key_secret
from impact.report import write_report

__all__ = ["run", "write_design_tables"]


@validate_params({"config": [InstanceOf((str, os.PathLike), "a path to an evaluation file (str or Path)")],
                  "out": [InstanceOf((str, os.PathLike), "a folder (str or Path)"), None],
                  "progress": ["boolean"]})
def run(config: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None,
        progress: bool = False) -> Evaluation:
    """Run the evaluation an evaluation file (TOML) describes and write its report.

    This is what ``impact run evaluation.toml`` does: read the file (:func:`impact.pipeline.read_config`),
    read the data and the monitoring inputs it names (CSV, Parquet, Stata or SPSS), run
    :func:`evaluate` and write the report (:func:`impact.write_report`) to ``out`` or to the file's
    ``[report] out``.

    Parameters
    ----------
    config : str or Path
        The evaluation file.
    out : str or Path, optional
        Report folder; overrides ``[report] out``.
    progress : bool
        Show a progress bar over the steps.

    Returns
    -------
    Evaluation
        With ``report_path`` the written ``report.html`` (also in ``settings["report"]``): a new
        Evaluation, made with ``dataclasses.replace``; nothing is changed in place.

    Raises
    ------
    ConfigError
        An unknown key (with the nearest valid one), a value of the wrong type, a file that cannot
        be read.
    DataError
        A column the file names is not in the data, or the data break a rule.

    Examples
    --------
    >>> import tempfile, pathlib, impact
    >>> from impact.synthetic import write_synthetic
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_synthetic(impact.simulate(n_pool=3000, random_state=4), folder)
    >>> _ = (folder / "evaluation.toml").write_text('''
    ... seed = 1
    ... lang = "sv"
    ... [data]
    ... path = "registers.csv"
    ... [columns]
    ... id = "person_id"
    ... treatment = "participant"
    ... start = "start_date"
    ... exit_date = "exit_date"
    ... exit_type = "exit_type"
    ... cutoff = "2022-10-31"
    ... subgroup = "gender"
    ... covariates = ["age", "education", "social_assistance"]
    ... ''')
    >>> ev = run(folder / "evaluation.toml", out=folder / "report")
    >>> ev.report_path.name, ev.settings["report"] == ev.report_path, ev.lang
    ('report.html', True, 'sv')
    """
    cfg = read_config(config)
    try:
        if cfg.registers is not None:
            extract = read_registers(cfg)
            records = read_monitoring(cfg)
            ev = evaluate(extract, progress=progress, config=cfg.raw, monitoring=records or None,
                          **cfg.evaluate_kwargs)
        else:
            data, records = read_inputs(cfg)
            ev = evaluate(data, cfg.roles, date_format=cfg.date_format, progress=progress, config=cfg.raw,
                          monitoring=records or None, **cfg.evaluate_kwargs)
    except ParameterError as exc:
        raise _with_toml_key(exc, cfg) from exc
    disclosure = cfg.report.get("disclosure")
    secret = (cell_key_secret(env=cfg.report.get("secret_env"), file=cfg.report.get("secret_file"))
              if disclosure == "cellkey" else None)
    path = write_report(ev, out or cfg.report["out"], title=cfg.report["title"],
                        threshold=cfg.report["threshold"], min_effect_n=cfg.report["min_effect_n"],
                        disclosure=disclosure, secret=secret)
    write_design_tables(ev, path.parent, threshold=cfg.report["threshold"], min_effect_n=cfg.report["min_effect_n"])
    return replace(ev, report_path=path, settings={**ev.settings, "report": path})


_PARAM = re.compile(r"The '(\w+)' parameter of (?:evaluate|match|match_riskset|estimate_effects|ipcw_effects)")


def _with_toml_key(exc: ParameterError, cfg: EvaluationConfig) -> ImpactError:
    """A parameter error from a TOML run, told as the evaluation-file key that fixes it."""
    m = _PARAM.search(str(exc))
    raw = cfg.raw or {}
    if m:
        name = m.group(1)
        names = {"random_state": ("", "seed"), "monitoring_start": ("monitoring", "start"),
                 "monitoring_end": ("monitoring", "end")}
        where = names.get(name)
        if where is None:
            for section in ("design", "outcomes", "effects", "sensitivity", "registers", "columns", ""):
                if name in (raw.get(section, {}) if section else raw):
                    where = (section, name)
                    break
        if where is not None:
            key = f"[{where[0]}] {where[1]}" if where[0] else where[1]
            text = _PARAM.sub(f"The evaluation-file key {key}", str(exc), count=1)
            return ConfigError(f"{cfg.source}: {text}")
    return exc


def write_design_tables(ev: Evaluation, folder: str | os.PathLike[str], *, threshold: int = 5,
                        min_effect_n: int | None = None) -> list[Path]:
    """The risk-set design's own tables as CSV beside the report, published by the same rules as the
    report (:func:`impact.publish.effects_withheld`; counts suppressed under ``threshold``) and
    labelled in the evaluation's language.

    ``sensitivity_unknown.csv`` (the headline with unknown exits as censored, competing and work),
    ``cause_shares.csv`` (shares by cause of exit), ``contamination.csv`` (controls who later joined
    the programme) and ``unmatched.csv`` (participants left unmatched, by period and reason).
    Estimates of a group with fewer than ``min_effect_n`` people per arm, shares resting on fewer
    than ``threshold`` people (numerators taken as share x group size) and differences involving
    them are withheld, with the reason in ``withheld``. Nothing is written for the
    cross-sectional design.

    Examples
    --------
    >>> write_design_tables.__name__
    'write_design_tables'
    """
    from impact.labels import relabel
    from impact.publish import MIN_EFFECT_N, effects_withheld, suppress_counts
    folder = Path(folder)
    if ev.design != "riskset":
        return []
    lang = ev.lang if ev.lang in ("en", "sv") else "en"
    n_min = MIN_EFFECT_N if min_effect_n is None else min_effect_n
    sizes = ev.summary()[["subgroup", "n_treated", "n_control"]].dropna().drop_duplicates("subgroup")
    written = []
    for name, key in (("sensitivity_unknown", "unknown_as"), ("cause_shares", "cause")):
        table = getattr(ev, name)
        if table is None:
            continue
        parts = []
        for _, part in table.groupby(key, sort=False):
            summary = part.merge(sizes, on="subgroup", how="left")
            pub = effects_withheld(summary, threshold=threshold, min_effect_n=n_min)
            parts.append(pub)
        out = pd.concat(parts, ignore_index=True) if parts else table
        written.append(folder / f"{name}.csv")
        (relabel(out, "sv") if lang == "sv" else out).to_csv(written[-1], index=False)
    for name, col in (("contamination", "count"), ("unmatched", "participants")):
        table = ev.flow_details.get(name)
        if table is None:
            continue
        pub = table.copy()
        if len(pub):
            pub[col] = suppress_counts(pub[[col]], threshold).iloc[:, 0].to_numpy()
        written.append(folder / f"{name}.csv")
        (relabel(pub, "sv") if lang == "sv" else pub).to_csv(written[-1], index=False)
    return written
