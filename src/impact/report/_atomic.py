"""A report folder is never half-written: one run at a time, written aside, moved in with one rename.

* :func:`folder_lock` -- a lock file beside the folder (``.<name>.lock``, made with
  ``O_CREAT | O_EXCL``): a second run into the same folder stops with :class:`ReportError`; a lock
  left by a process that no longer runs (same host) is taken over;
* :func:`write_folder` -- every file is written into a temporary sibling folder; only when all
  of them are complete is the old folder renamed aside, the new one renamed into place and the
  old one removed. A failure (an exception in a writer, a full disk) removes the temporary
  folder and leaves the previous report as it was. Files of an earlier run that this run does
  not write do not survive. The folder keeps a manifest (:data:`MANIFEST`) of what it holds, and
  a folder with files that are not from a report is never replaced.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from impact._errors import ImpactError

__all__ = ["ReportError", "MANIFEST", "folder_lock", "write_folder", "failure_message"]

#: the file in a report folder that lists what the report wrote
MANIFEST = ".impact-report.json"
_LEGACY_SUFFIXES = (".html", ".csv", ".xlsx")


class ReportError(ImpactError, RuntimeError):
    """The report could not be written (another run holds the folder, the disk is full, ...);
    the previous report in the folder, if any, is unchanged."""


def _lock_path(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.lock"


def _holder_alive(text: str) -> bool:
    try:
        info = json.loads(text)
        pid, host = int(info["pid"]), str(info["host"])
    except (ValueError, KeyError, TypeError):
        return True  # unreadable: maybe being written right now; do not take it over
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def folder_lock(folder: Path) -> Iterator[Path]:
    """Hold the lock of ``folder`` for the duration of the block."""
    lock = _lock_path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                text = lock.read_text(encoding="utf-8")
            except OSError:
                text = ""
            if attempt == 0 and text and not _holder_alive(text):
                lock.unlink(missing_ok=True)  # a stale lock of a run that no longer exists
                continue
            raise ReportError(
                f"Another run is writing a report into {folder} (lock file {lock}). Wait for it to "
                "finish; if no run is active, delete the lock file and run again.") from None
        except OSError as exc:
            raise ReportError(f"The report folder {folder} cannot be locked ({exc.strerror or exc}).") from exc
        break
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        yield lock
    finally:
        lock.unlink(missing_ok=True)


def _check_replaceable(folder: Path) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ReportError(f"{folder} exists and is not a folder; choose another folder for the report.")
    entries = {p.name: p for p in folder.iterdir()}
    if not entries:
        return
    if MANIFEST in entries:
        try:
            listed = set(json.loads(entries[MANIFEST].read_text(encoding="utf-8"))["files"]) | {MANIFEST}
        except (OSError, ValueError, KeyError, TypeError):
            listed = set()
    elif "report.html" in entries:  # a report written before the manifest existed
        listed = {n for n, p in entries.items() if p.is_file() and p.suffix in _LEGACY_SUFFIXES}
    else:
        listed = set()
    foreign = sorted(set(entries) - listed)
    if foreign:
        shown = ", ".join(repr(n) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise ReportError(
            f"{folder} holds files that are not from an impact report ({shown}); a report replaces its "
            "whole folder, so write it into a new or empty folder.")


def failure_message(folder: Path, exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        why = "the disk is full"
    elif isinstance(exc, OSError):
        why = exc.strerror or str(exc)
    else:
        why = f"{type(exc).__name__}: {exc}"
    return (f"The report could not be written to {folder} ({why}). Nothing was changed there: the "
            "previous report, if any, is as it was.")


def write_folder(folder: Path, files: Mapping[str, Callable[[Path], None]]) -> None:
    """Write ``files`` (name -> writer of that path) as the whole content of ``folder``, atomically.

    Call it while holding :func:`folder_lock`. Raises :class:`ReportError` (with the cause
    chained) when anything fails; then ``folder`` is as it was before.
    """
    _check_replaceable(folder)
    parent = folder.parent
    for left in [*parent.glob(f".{folder.name}.tmp-*"), *parent.glob(f".{folder.name}.old-*")]:
        shutil.rmtree(left, ignore_errors=True)  # left by a run that was killed (we hold the lock)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=parent))
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the report folder is not
        for name, writer in files.items():
            writer(tmp / name)
        (tmp / MANIFEST).write_text(json.dumps({"files": sorted(files)}), encoding="utf-8")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=parent))
            os.rename(folder, old / folder.name)
            try:
                os.rename(tmp, folder)
            except BaseException:
                os.rename(old / folder.name, folder)
                shutil.rmtree(old, ignore_errors=True)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, folder)
    except ImpactError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ReportError(failure_message(folder, exc)) from exc
