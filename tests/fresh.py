"""A short program in a fresh interpreter (this one has imported everything already),
and the JSON it printed."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def fresh_json(code: str) -> Any:
    """Run ``code`` with this venv's Python; return what it printed, parsed as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
