"""Durations and causes from dates and the index date, censored at the data cut-off."""

from impact.outcomes._time_to_event import CENSORED, COMPETING, EVENT, time_to_event

__all__ = ["time_to_event", "EVENT", "COMPETING", "CENSORED"]
