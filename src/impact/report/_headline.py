"""The headline of the report in words: what the published effects say, for all, women and men.

Every sentence is a :class:`Message`: a key and typed fields (a :class:`Number` already rounded as
the published effect table shows it, a :class:`Horizon`, a :class:`Group`, a :class:`Level`), so that
the text is made from the key in either language and the numbers are exactly the published ones.
The messages are built from the *published* effect table (:func:`impact.publish.publish`): a value
the publication withholds is never in a field, so it can be in no sentence.

* a group below the minimum size for an effect (``min_effect_n``; the publication's ``group_size``
  reason) gets "too few participants to estimate an effect", not a number;
* a share difference is in percentage points with its interval; its direction ("more often",
  "less often", "not clearly different") is read from the published (rounded) interval;
* the hazard ratio in plain words: participants reached work or studies sooner, later, or not
  clearly sooner or later than matched controls;
* whether women and men differ, from the published difference ``women - men`` and its interval
  (and the ratio of their hazard ratios);
* a design whose balance after matching is poor (any covariate with ``|SMD| >``
  :data:`BALANCE_FLAG_SMD`) is flagged "balance not achieved", naming how many covariates.

Examples
--------
>>> import pandas as pd
>>> pub = pd.DataFrame({"subgroup": ["all", "all"], "estimand": ["share_diff", "hazard_ratio"],
...                     "horizon": [365.0, float("nan")], "estimate": [0.0712, 1.31],
...                     "ci_low": [0.0415, 1.12], "ci_high": [0.1004, 1.52], "withheld": ["", ""]})
>>> h = headline_messages(pub)
>>> print(h.text("en"))
All participants
- Within a year, participants had gone to work or studies 7.1 percentage points (95% CI 4.2 to 10.0) more often than matched controls.
- Participants reached work or studies sooner than matched controls (hazard ratio 1.310, 95% CI 1.120 to 1.520).
>>> h.blocks[0].lines[0].text("sv")
'Inom ett år hade deltagarna gått till arbete eller studier 7,1 procentenheter (95\\xa0%\\xa0KI 4,2 till 10,0) oftare än matchade kontrollpersoner.'
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from impact.labels import Lang, format_number, label, subgroup_label

__all__ = ["BALANCE_FLAG_SMD", "Number", "Level", "Horizon", "Group", "Message", "HeadlineBlock", "Headline",
           "TEXTS", "headline_messages", "headline_html"]

_FIELDS = re.compile(r"\{(\w+)\}")

#: an absolute standardised mean difference after matching above this flags "balance not achieved"
BALANCE_FLAG_SMD = 0.25

#: decimals of each estimand as the published effect table shows it (report._tables)
_DECIMALS = {"share_diff": 3, "hazard_ratio": 3}


# -- typed fields ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Number:
    """A number as published: ``value`` is already rounded to ``decimals``."""

    value: float
    decimals: int

    def text(self, lang: Lang) -> str:
        return format_number(self.value, lang, self.decimals)


@dataclass(frozen=True)
class Level:
    """A confidence level, ``0.95`` -> ``"95%"`` / ``"95 %"``."""

    value: float

    def text(self, lang: Lang) -> str:
        pct = format_number(100 * self.value, lang, 0 if round(100 * self.value, 6) % 1 == 0 else 1)
        return f"{pct}\u00a0%" if lang == "sv" else f"{pct}%"   # "95 %" never broken over two lines


@dataclass(frozen=True)
class Horizon:
    """Days since start, as a phrase: ``within 90 days``, ``within a year``."""

    days: float

    def text(self, lang: Lang) -> str:
        words = {365: ("within a year", "inom ett år"), 730: ("within two years", "inom två år")}
        d = float(self.days)
        if d in words:
            return words[int(d)][lang == "sv"]
        n = format_number(d, lang, 0 if d % 1 == 0 else 1)
        return f"inom {n} dagar" if lang == "sv" else f"within {n} days"


@dataclass(frozen=True)
class Group:
    """A subgroup of the effect table by its code (``female``, ``K``, ``all``), named at display."""

    code: str
    column: str | None = None

    def text(self, lang: Lang) -> str:
        name = subgroup_label(self.code, lang, column=self.column)
        if name in (label("women", lang), label("men", lang), label("all", lang)):
            return name.lower()   # "women" inside a sentence
        return name


@dataclass(frozen=True)
class Message:
    """One sentence: a key of :data:`TEXTS` and typed fields (each with ``.text(lang)``)."""

    key: str
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.key not in TEXTS:
            raise KeyError(f"no headline text for key {self.key!r}")
        missing = set(_FIELDS.findall(TEXTS[self.key]["en"])) - set(self.fields)
        if missing:
            raise KeyError(f"headline text {self.key!r} needs the fields {sorted(missing)}")

    def text(self, lang: Lang) -> str:
        shown = {k: (v.text(lang) if hasattr(v, "text") else str(v)) for k, v in self.fields.items()}
        out = TEXTS[self.key][lang].format(**shown)
        return out[:1].upper() + out[1:]


@dataclass(frozen=True)
class HeadlineBlock:
    """The sentences about one group (``heading`` names it)."""

    heading: Message
    lines: tuple[Message, ...]


@dataclass(frozen=True)
class Headline:
    """The headline: flags about the whole design first, then a block per group."""

    flags: tuple[Message, ...]
    blocks: tuple[HeadlineBlock, ...]

    def messages(self) -> tuple[Message, ...]:
        """Every message, in reading order (headings included)."""
        out = list(self.flags)
        for b in self.blocks:
            out += [b.heading, *b.lines]
        return tuple(out)

    def text(self, lang: Lang) -> str:
        """Plain text: flags, then each group's heading and its sentences as ``- `` items."""
        out = [m.text(lang) for m in self.flags]
        for b in self.blocks:
            out.append(b.heading.text(lang))
            out += [f"- {m.text(lang)}" for m in b.lines]
        return "\n".join(out)


# -- the texts --------------------------------------------------------------------------------------

_CI = {"en": "({level} CI {low} to {high})", "sv": "({level}\u00a0KI {low} till {high})"}
_HR = {"en": "hazard ratio {ratio}, {level} CI {low} to {high}",
       "sv": "hazardkvot {ratio}, {level}\u00a0KI {low} till {high}"}

#: key -> {"en": ..., "sv": ...}: every sentence of the headline (fields in braces)
TEXTS: Mapping[str, Mapping[str, str]] = MappingProxyType({k: MappingProxyType(v) for k, v in {
    "group_all": {"en": "All participants", "sv": "Alla deltagare"},
    "group": {"en": "{group}", "sv": "{group}"},
    "group_difference": {"en": "{a} compared with {b}", "sv": "{a} jämfört med {b}"},
    "share_more": {
        "en": "{horizon}, participants had gone to work or studies {diff} percentage points " + _CI["en"] +
              " more often than matched controls.",
        "sv": "{horizon} hade deltagarna gått till arbete eller studier {diff} procentenheter " + _CI["sv"] +
              " oftare än matchade kontrollpersoner."},
    "share_less": {
        "en": "{horizon}, participants had gone to work or studies {diff} percentage points " + _CI["en"] +
              " less often than matched controls.",
        "sv": "{horizon} hade deltagarna gått till arbete eller studier {diff} procentenheter " + _CI["sv"] +
              " mer sällan än matchade kontrollpersoner."},
    "share_unclear": {
        "en": "{horizon}, participants and matched controls did not clearly differ in going to work or studies: "
              "{diff} percentage points " + _CI["en"] + ".",
        "sv": "{horizon} skilde sig deltagare och matchade kontrollpersoner inte säkert åt i hur ofta de gått till "
              "arbete eller studier: {diff} procentenheter " + _CI["sv"] + "."},
    "hr_sooner": {
        "en": "Participants reached work or studies sooner than matched controls (" + _HR["en"] + ").",
        "sv": "Deltagarna kom till arbete eller studier snabbare än matchade kontrollpersoner (" + _HR["sv"] + ")."},
    "hr_later": {
        "en": "Participants reached work or studies later than matched controls (" + _HR["en"] + ").",
        "sv": "Deltagarna kom till arbete eller studier långsammare än matchade kontrollpersoner (" + _HR["sv"] + ")."},
    "hr_unclear": {
        "en": "Participants did not clearly reach work or studies sooner or later than matched controls ("
              + _HR["en"] + ").",
        "sv": "Deltagarna kom inte säkert snabbare eller långsammare till arbete eller studier än matchade "
              "kontrollpersoner (" + _HR["sv"] + ")."},
    "too_few": {"en": "Too few participants to estimate an effect.",
                "sv": "För få deltagare för att skatta en effekt."},
    "share_withheld": {"en": "{horizon}: not shown, to protect small groups.",
                       "sv": "{horizon}: visas inte, för att skydda små grupper."},
    "hr_withheld": {"en": "Hazard ratio: not shown, to protect small groups.",
                    "sv": "Hazardkvot: visas inte, för att skydda små grupper."},
    "share_not_estimable": {"en": "{horizon}: could not be estimated.", "sv": "{horizon}: kunde inte skattas."},
    "hr_not_estimable": {"en": "Hazard ratio: could not be estimated.", "sv": "Hazardkvot: kunde inte skattas."},
    "difference_none": {
        "en": "The effect did not clearly differ between {a} and {b} at any horizon or in the hazard ratio.",
        "sv": "Effekten skilde sig inte säkert mellan {a} och {b} vid någon tidpunkt eller i hazardkvoten."},
    "difference_some": {
        "en": "The effect differed clearly between {a} and {b} in {n} of {m} comparisons.",
        "sv": "Effekten skilde sig säkert mellan {a} och {b} i {n} av {m} jämförelser."},
    "difference_too_few": {
        "en": "Too few participants in a group to compare {a} and {b}.",
        "sv": "För få deltagare i en grupp för att jämföra {a} och {b}."},
    "difference_withheld": {
        "en": "The comparison of {a} and {b} is not shown, to protect small groups.",
        "sv": "Jämförelsen mellan {a} och {b} visas inte, för att skydda små grupper."},
    "difference_share_larger": {
        "en": "{horizon}, the effect was {diff} percentage points " + _CI["en"] + " larger for {a} than for {b}.",
        "sv": "{horizon} var effekten {diff} procentenheter " + _CI["sv"] + " större för {a} än för {b}."},
    "difference_share_smaller": {
        "en": "{horizon}, the effect was {diff} percentage points " + _CI["en"] + " smaller for {a} than for {b}.",
        "sv": "{horizon} var effekten {diff} procentenheter " + _CI["sv"] + " mindre för {a} än för {b}."},
    "difference_share_unclear": {
        "en": "{horizon}, the effect did not clearly differ between {a} and {b} ({a} minus {b}: {diff} percentage "
              "points, {level} CI {low} to {high}).",
        "sv": "{horizon} skilde sig effekten inte säkert mellan {a} och {b} ({a} minus {b}: {diff} procentenheter, "
              "{level}\u00a0KI {low} till {high})."},
    "difference_hr_higher": {
        "en": "The hazard ratio was higher for {a} than for {b} (ratio of the hazard ratios {ratio}, "
              "{level} CI {low} to {high}).",
        "sv": "Hazardkvoten var högre för {a} än för {b} (kvot mellan hazardkvoterna {ratio}, "
              "{level}\u00a0KI {low} till {high})."},
    "difference_hr_lower": {
        "en": "The hazard ratio was lower for {a} than for {b} (ratio of the hazard ratios {ratio}, "
              "{level} CI {low} to {high}).",
        "sv": "Hazardkvoten var lägre för {a} än för {b} (kvot mellan hazardkvoterna {ratio}, "
              "{level}\u00a0KI {low} till {high})."},
    "difference_hr_unclear": {
        "en": "The hazard ratio did not clearly differ between {a} and {b} (ratio of the hazard ratios {ratio}, "
              "{level} CI {low} to {high}).",
        "sv": "Hazardkvoten skilde sig inte säkert mellan {a} och {b} (kvot mellan hazardkvoterna {ratio}, "
              "{level}\u00a0KI {low} till {high})."},
    "balance_not_achieved": {
        "en": "Balance not achieved: {n} covariates have an absolute standardised mean difference above {limit} "
              "after matching, so the effects below may be biased.",
        "sv": "Balans uppnåddes inte: {n} kovariater har en absolut standardiserad medelvärdesskillnad över {limit} "
              "efter matchningen, så effekterna nedan kan vara snedvridna."},
    "balance_not_achieved_one": {
        "en": "Balance not achieved: 1 covariate has an absolute standardised mean difference above {limit} "
              "after matching, so the effects below may be biased.",
        "sv": "Balans uppnåddes inte: 1 kovariat har en absolut standardiserad medelvärdesskillnad över {limit} "
              "efter matchningen, så effekterna nedan kan vara snedvridna."},
    "balance_not_achieved_score": {
        "en": "Balance not achieved: the propensity score has an absolute standardised mean difference above "
              "{limit} after matching, so the effects below may be biased.",
        "sv": "Balans uppnåddes inte: benägenhetspoängen har en absolut standardiserad medelvärdesskillnad över "
              "{limit} efter matchningen, så effekterna nedan kan vara snedvridna."},
}.items()})


# -- building the messages from the published tables ------------------------------------------------

def _msg(key: str, fields: Mapping[str, Any] | None = None) -> Message:
    """A message whose fields cannot be changed afterwards (a read-only view of a copy)."""
    return Message(key, MappingProxyType(dict(fields or {})))


def _rounded(x: float, decimals: int, scale: int = 1) -> float:
    """``x`` rounded as the published table prints it (``f"{x:.3f}"``), then scaled exactly."""
    return float(Decimal(f"{float(x):.{decimals}f}") * scale)


def _interval(r: Any, decimals: int, scale: int = 1) -> tuple[float, float, float]:
    return (_rounded(r.estimate, decimals, scale), _rounded(r.ci_low, decimals, scale),
            _rounded(r.ci_high, decimals, scale))


def _shown(r: Any) -> str:
    """``"shown"``, ``"withheld"``, ``"group_size"`` or ``"not_estimable"`` for a published row."""
    reason = str(getattr(r, "withheld", "") or "")
    if reason == "group_size":
        return "group_size"
    if reason or pd.isna(r.estimate):
        return "withheld"
    if not all(np.isfinite(float(v)) for v in (r.estimate, r.ci_low, r.ci_high)):
        return "not_estimable"
    return "shown"


def _share_fields(r: Any, level: Level, flip: bool = False) -> dict[str, Any]:
    d = _DECIMALS["share_diff"]
    est, lo, hi = _interval(r, d, 100)
    if flip:  # "less often": the distances below zero, as positive numbers
        est, lo, hi = -est, -hi, -lo
    return {"horizon": Horizon(float(r.horizon)), "diff": Number(est, d - 2), "low": Number(lo, d - 2),
            "high": Number(hi, d - 2), "level": level}


def _ratio_fields(r: Any, level: Level) -> dict[str, Any]:
    d = _DECIMALS["hazard_ratio"]
    est, lo, hi = _interval(r, d)
    return {"ratio": Number(est, d), "low": Number(lo, d), "high": Number(hi, d), "level": level}


def _direction(r: Any, null: float, decimals: int) -> int:
    """+1 / -1 when the published (rounded) interval lies wholly above / below ``null``, else 0."""
    lo, hi = _rounded(r.ci_low, decimals), _rounded(r.ci_high, decimals)
    return 1 if lo > null else -1 if hi < null else 0


def _rows(pub: pd.DataFrame, group: str) -> tuple[list[Any], Any | None]:
    g = pub[pub["subgroup"].astype(str) == group]
    shares = sorted((r for r in g.itertuples() if r.estimand == "share_diff"), key=lambda r: float(r.horizon))
    hr = next((r for r in g.itertuples() if r.estimand == "hazard_ratio"), None)
    return shares, hr


def _all_rows(pub: pd.DataFrame, group: str) -> list[Any]:
    shares, hr = _rows(pub, group)
    return shares + ([hr] if hr is not None else [])


def _group_lines(pub: pd.DataFrame, group: str, level: Level) -> tuple[Message, ...]:
    shares, hr = _rows(pub, group)
    if any(_shown(r) == "group_size" for r in _all_rows(pub, group)):
        return (_msg("too_few"),)
    out = []
    for r in shares:
        state = _shown(r)
        if state == "shown":
            way = _direction(r, 0.0, _DECIMALS["share_diff"])
            key = {1: "share_more", -1: "share_less", 0: "share_unclear"}[way]
            out.append(_msg(key, _share_fields(r, level, flip=way < 0)))
        else:
            out.append(_msg(f"share_{'not_estimable' if state == 'not_estimable' else 'withheld'}",
                               {"horizon": Horizon(float(r.horizon))}))
    if hr is not None:
        state = _shown(hr)
        if state == "shown":
            way = _direction(hr, 1.0, _DECIMALS["hazard_ratio"])
            out.append(_msg({1: "hr_sooner", -1: "hr_later", 0: "hr_unclear"}[way], _ratio_fields(hr, level)))
        else:
            out.append(_msg(f"hr_{'not_estimable' if state == 'not_estimable' else 'withheld'}"))
    return tuple(out)


def _difference_lines(pub: pd.DataFrame, name: str, a: Group, b: Group, level: Level) -> tuple[Message, ...]:
    shares, hr = _rows(pub, name)
    parts = [r for p in (a.code, b.code) for r in _all_rows(pub, p)]
    if any(_shown(r) == "group_size" for r in parts):
        return (_msg("difference_too_few", {"a": a, "b": b}),)
    lines, clear, compared = [], 0, 0
    for r in shares:
        if _shown(r) != "shown":
            continue
        way = _direction(r, 0.0, _DECIMALS["share_diff"])
        key = {1: "difference_share_larger", -1: "difference_share_smaller", 0: "difference_share_unclear"}[way]
        lines.append(_msg(key, {**_share_fields(r, level, flip=way < 0), "a": a, "b": b}))
        clear, compared = clear + (way != 0), compared + 1
    if hr is not None and _shown(hr) == "shown":
        way = _direction(hr, 1.0, _DECIMALS["hazard_ratio"])
        key = {1: "difference_hr_higher", -1: "difference_hr_lower", 0: "difference_hr_unclear"}[way]
        lines.append(_msg(key, {**_ratio_fields(hr, level), "a": a, "b": b}))
        clear, compared = clear + (way != 0), compared + 1
    if not compared:
        return (_msg("difference_withheld", {"a": a, "b": b}),)
    lead = (_msg("difference_some", {"a": a, "b": b, "n": Number(clear, 0), "m": Number(compared, 0)}) if clear
            else _msg("difference_none", {"a": a, "b": b}))
    return (lead, *lines)


def _balance_flags(balance: pd.DataFrame | None, limit: float) -> tuple[Message, ...]:
    if balance is None or "smd_after" not in balance.columns or not len(balance):
        return ()
    names = (balance["covariate"].astype(str) if "covariate" in balance.columns
             else pd.Series(balance.index.astype(str), index=balance.index))
    smd = pd.to_numeric(balance["smd_after"], errors="coerce").abs()
    off = (smd > limit).to_numpy()
    score = off & (names == "distance").to_numpy()
    n = int((off & ~score).sum())
    lim = Number(limit, 2)
    if n == 1:
        return (_msg("balance_not_achieved_one", {"limit": lim}),)
    if n > 1:
        return (_msg("balance_not_achieved", {"n": Number(n, 0), "limit": lim}),)
    if score.any():
        return (_msg("balance_not_achieved_score", {"limit": lim}),)
    return ()


def headline_messages(effects: pd.DataFrame, balance: pd.DataFrame | None = None, *, conf_level: float = 0.95,
                      by: str | None = None, balance_limit: float = BALANCE_FLAG_SMD) -> Headline:
    """The headline of a published effect table, as messages.

    Parameters
    ----------
    effects : DataFrame
        The *published* effect table (``Publication.effects["effects"]``: ``subgroup, estimand,
        horizon, estimate, ci_low, ci_high, withheld``). Withheld rows have no estimate and give
        a sentence without a number.
    balance : DataFrame, optional
        The published balance table (``covariate``, ``smd_after``): any ``|smd_after|`` above
        ``balance_limit`` gives the flag "balance not achieved" (the propensity score,
        ``distance``, is not counted as a covariate).
    conf_level : float
        The level of the intervals (stated in each sentence).
    by : str, optional
        The column the subgroups are levels of (for user labels of its codes).
    balance_limit : float, default 0.25

    Returns
    -------
    Headline
    """
    level = Level(float(conf_level))
    groups = list(dict.fromkeys(effects["subgroup"].astype(str)))
    levels = [g for g in groups if g != "all" and " - " not in g]
    blocks = []
    if "all" in groups:
        blocks.append(HeadlineBlock(_msg("group_all"), _group_lines(effects, "all", level)))
    for g in levels:
        blocks.append(HeadlineBlock(_msg("group", {"group": Group(g, by)}), _group_lines(effects, g, level)))
    for g in groups:
        if " - " not in g:
            continue
        pair = next(((x, y) for x in levels for y in levels if x != y and g == f"{x} - {y}"), None)
        if pair is None:
            continue
        a, b = Group(pair[0], by), Group(pair[1], by)
        blocks.append(HeadlineBlock(_msg("group_difference", {"a": a, "b": b}),
                                    _difference_lines(effects, g, a, b, level)))
    return Headline(flags=_balance_flags(balance, balance_limit), blocks=tuple(blocks))


def headline_html(head: Headline, lang: Lang) -> str:
    """The headline as HTML: the flags as a warning box, then a block per group."""
    out = []
    for m in head.flags:
        text = m.text(lang)
        first, _, rest = text.partition(":")
        out.append(f"<p class='flag' role='alert'><strong>{html.escape(first)}</strong>:{html.escape(rest)}</p>"
                   if rest else f"<p class='flag' role='alert'>{html.escape(text)}</p>")
    blocks = []
    for b in head.blocks:
        items = "".join(f"<li>{html.escape(m.text(lang))}</li>" for m in b.lines)
        blocks.append(f"<div class='finding'><h3>{html.escape(b.heading.text(lang))}</h3><ul>{items}</ul></div>")
    out.append(f"<div class='findings'>{''.join(blocks)}</div>")
    return f"<div class='headline'>{''.join(out)}</div>"
