"""Shared by the benchmark scripts: the JSON results file with its date and machine."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console


def write_results(path: Path, fields: dict[str, Any]) -> None:
    """Write ``fields`` as JSON to ``path``, preceded by the date and the machine."""
    doc = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
        },
        **fields,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    Console(stderr=True).print(f"wrote {path}")
