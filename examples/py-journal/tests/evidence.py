"""faultline's evidence protocol from the Python standard library."""
import json
import os


def record_fault(test, kind, name, detail, **attributes):
    """Appends one evidence line to FAULTLINE_EVIDENCE_FILE (a no-op outside a faultline run)."""
    path = os.environ.get("FAULTLINE_EVIDENCE_FILE")
    if not path:
        return
    line = json.dumps({"test": test, "kind": kind, "name": name, "detail": detail, "attributes": attributes})
    with open(path, "a") as f:
        f.write(line + "\n")
