"""A progress bar over the named steps of an evaluation."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["Progress"]


class Progress:
    """A tqdm bar over the named steps of an evaluation (on stderr; silent when disabled)."""

    def __init__(self, enabled: bool, steps: Sequence[str]) -> None:
        from impact._progress import progress_class
        tqdm = progress_class()
        # disable=None: shown on a terminal, silent in logs and pipes
        self.bar = tqdm(total=len(steps), disable=None if enabled else True, unit="step", file=sys.stderr,
                        bar_format="{desc:<32}{bar:20} {n_fmt}/{total_fmt} [{elapsed}]")

    def start(self, name: str) -> None:
        self.bar.set_description_str(name)

    def done(self) -> None:
        self.bar.update(1)

    def close(self) -> None:
        self.bar.set_description_str("done")
        self.bar.close()

