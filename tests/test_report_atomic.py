"""A report is never half-written (issue 11, point 7).

Oracles: the bytes of the previous report (unchanged after a failed run), the folder listing
(no temporary folder, no lock, no stale file left), the message (an ImpactError, no "bug"), the
exit code of the command line.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import impact
import impact.report._write as writing
from impact.report import ReportError, write_report
from impact.report._atomic import MANIFEST


@pytest.fixture(scope="module")
def evaluations():
    sim = impact.simulate(n_pool=800, random_state=4)
    plain = impact.evaluate(sim.registers, sim.roles, random_state=0)
    by_region = impact.evaluate(sim.registers, sim.roles, random_state=0, subgroups=["region_of_birth"])
    return plain, by_region


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def test_rerun_leaves_no_stale_file(evaluations, tmp_path):
    plain, by_region = evaluations
    out = tmp_path / "r"
    write_report(by_region, out, excel=False)
    assert (out / "effects_by_region_of_birth.csv").exists()
    write_report(plain, out, excel=False)
    names = {p.name for p in out.iterdir()}
    assert "effects_by_region_of_birth.csv" not in names
    assert names == set(json.loads((out / MANIFEST).read_text())["files"]) | {MANIFEST}
    assert _leftovers(out) == []


@pytest.mark.parametrize("failure", [RuntimeError("boom"), OSError(errno.ENOSPC, "No space left on device")])
def test_failed_run_keeps_previous_report(evaluations, tmp_path, monkeypatch, failure):
    plain, by_region = evaluations
    out = tmp_path / "r"
    write_report(plain, out)
    before = _snapshot(out)

    def broken(path, sheets):  # half a file written, then the failure
        Path(path).write_bytes(b"PK\x03\x04 half")
        raise failure
    monkeypatch.setattr(writing, "write_workbook", broken)
    with pytest.raises(ReportError) as info:
        write_report(by_region, out)
    assert isinstance(info.value, impact.ImpactError)
    assert "previous report" in str(info.value) and "bug" not in str(info.value)
    if isinstance(failure, OSError):
        assert "disk is full" in str(info.value)
    assert info.value.__cause__ is failure
    assert _snapshot(out) == before
    assert _leftovers(out) == []


def test_second_run_stops_with_clear_error(evaluations, tmp_path):
    plain, _ = evaluations
    out = tmp_path / "r"
    write_report(plain, out, excel=False)
    before = _snapshot(out)
    lock = tmp_path / ".r.lock"
    # a live run holds the folder (here: this test's parent process)
    import socket
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    with pytest.raises(ReportError, match="Another run is writing a report into"):
        write_report(plain, out, excel=False)
    assert lock.exists() and _snapshot(out) == before
    # a lock left by a run that no longer exists is taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    write_report(plain, out, excel=False)
    assert not lock.exists() and _leftovers(out) == []


def test_folder_with_other_files_is_refused(evaluations, tmp_path):
    plain, _ = evaluations
    (tmp_path / "data.csv").write_text("person_id\n1\n")
    with pytest.raises(ReportError, match="not from an impact report"):
        write_report(plain, tmp_path, excel=False)
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


def test_killed_run_leaves_previous_report(evaluations, tmp_path):
    plain, _ = evaluations
    out = tmp_path / "r"
    write_report(plain, out, excel=False)
    before = _snapshot(out)
    script = textwrap.dedent(f"""
        import time, impact, impact.report._write as w
        sim = impact.simulate(n_pool=800, random_state=4)
        ev = impact.evaluate(sim.registers, sim.roles, random_state=0)
        def slow(path, sheets):
            open(path, "wb").write(b"half")
            time.sleep(120)
        w.write_workbook = slow
        impact.write_report(ev, {str(out)!r})
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(impact.__file__).parents[1]), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.time() + 120
        while not list(tmp_path.glob(".r.tmp-*/tables.xlsx")) and time.time() < deadline:
            time.sleep(0.2)
        assert list(tmp_path.glob(".r.tmp-*/tables.xlsx")), "the run did not get to the workbook"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _snapshot(out) == before               # the killed run changed nothing in place
    write_report(plain, out, excel=False)          # the next run takes over the stale lock, cleans up
    assert _leftovers(out) == []


def test_cli_prints_report_errors_cleanly(tmp_path, monkeypatch, capsys):
    from impact.cli import main
    from impact.synthetic import write_synthetic
    write_synthetic(impact.simulate(n_pool=800, random_state=4), tmp_path)
    config = textwrap.dedent("""
        seed = 0
        [data]
        path = "registers.csv"
        [columns]
        id = "person_id"
        treatment = "participant"
        start = "start_date"
        exit_date = "exit_date"
        exit_type = "exit_type"
        cutoff = "2022-10-31"
        subgroup = "gender"
        covariates = ["age", "education"]
        [outcomes]
        horizons = [90, 180]
    """)
    (tmp_path / "evaluation.toml").write_text(config)

    def full(path, sheets):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(writing, "write_workbook", full)
    code = main(["run", str(tmp_path / "evaluation.toml"), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0
    assert "disk is full" in err and "bug" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
