"""Progress log, the per-kernel failure type and a checked subprocess call."""

import subprocess
import threading

_log_lock = threading.Lock()
VERBOSE = False
logs = {}  # tag -> lines, saved as OUT/<kernel>/run.log


def set_verbose(on):
    global VERBOSE
    VERBOSE = on


def log(tag, msg, always=False):
    """Progress line: kept for the kernel's run.log, printed with --verbose (or when ALWAYS)."""
    with _log_lock:
        logs.setdefault(tag, []).append(msg)
        if always or VERBOSE:
            print(f"[{tag}] {msg}", flush=True)


class Failure(Exception):
    """A per-kernel failure: status (e.g. 'download-failed') and a reason."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)
