"""Kill-mid-append: a writer process appends records to the journal and is SIGKILLed halfway
through one; recovery must return every complete record and never the torn one."""
import os
import signal
import subprocess
import sys
import time

import journal
from evidence import record_fault

WRITER = """
import sys, journal
path, ready = sys.argv[1], sys.argv[2]
for i in range(3):
    journal.append(path, {"seq": i, "body": "x" * 40})
def half():
    open(ready, "w").close()
journal.append(path, {"seq": 3, "body": "y" * 40}, pause_after_half=60, on_half=half)
"""


def wait_for(path, seconds):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"the writer never reached the middle of a record ({path})"
        time.sleep(0.01)


def test_sigkill_mid_append_keeps_complete_records(tmp_path, record_property):
    record_property("faultline.issue", "torn-tail")
    path, ready = tmp_path / "journal", tmp_path / "ready"
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(ready)],
        cwd=here,
        env={**os.environ, "PYTHONPATH": here},
    )
    try:
        wait_for(ready, 20)
        assert writer.poll() is None, "the writer exited before the kill"
        size = path.stat().st_size
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=20) == -signal.SIGKILL
        record_fault(
            "test_sigkill_mid_append_keeps_complete_records",
            "kill",
            "writer",
            f"pid {writer.pid} got SIGKILL halfway through record 4 ({size} bytes written)",
            bytes=size,
        )
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert [r["seq"] for r in journal.recover(path)] == [0, 1, 2]


def test_recover_of_a_missing_journal_is_empty(tmp_path):
    assert journal.recover(tmp_path / "none") == []
