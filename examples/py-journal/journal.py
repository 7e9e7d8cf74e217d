"""An append-only journal of JSON records, one per line, that survives a crash mid-append.

`append` writes a record and fsyncs it; `recover` reads every complete record back and drops a
torn last line (a process killed mid-write leaves one). PYJOURNAL_BROKEN=1 (or the break
trust-torn-tail in FAULTLINE_BREAK, set by faultline verify) makes recover trust every line: the
bug this example's matrix must catch.
"""
import json
import os
import time


def append(path, record, pause_after_half=0.0, on_half=None):
    """Appends one record. The pause between its halves is the window a crash test kills in."""
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        half = len(line) // 2
        os.write(fd, line[:half])
        if on_half:
            on_half()
        if pause_after_half:
            time.sleep(pause_after_half)
        os.write(fd, line[half:])
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(path):
    """Every complete record in order; a torn last line (no newline) is dropped."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    breaks = [b.strip() for b in os.environ.get("FAULTLINE_BREAK", "").split(",")]
    if os.environ.get("PYJOURNAL_BROKEN") != "1" and "trust-torn-tail" not in breaks:
        lines = lines[:-1]  # the part after the last newline is torn (or empty)
    return [json.loads(line) for line in lines if line]
