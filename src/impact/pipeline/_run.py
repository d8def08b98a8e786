"""``run``: an evaluation file in, a written report out -- the only place that calls both
:func:`impact.evaluate` and :func:`impact.write_report`."""

from __future__ import annotations

import os
from dataclasses import replace

from impact._validation import InstanceOf, validate_params
from impact.pipeline._config import read_config
from impact.pipeline._evaluate import Evaluation, evaluate
from impact.pipeline._files import read_inputs
from impact.report import write_report

__all__ = ["run"]


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
    data, records = read_inputs(cfg)
    ev = evaluate(data, cfg.roles, date_format=cfg.date_format, progress=progress, config=cfg.raw,
                  monitoring=records or None, **cfg.evaluate_kwargs)
    path = write_report(ev, out or cfg.report["out"], title=cfg.report["title"],
                        threshold=cfg.report["threshold"])
    return replace(ev, report_path=path, settings={**ev.settings, "report": path})
