"""The vector index's manifest read without FAISS or numpy, for commands that only count
vectors (`status`, the notes of a keyword search). `index` writes the manifest.

Imports only the standard library.
"""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST_FILE = "manifest.json"
_HEAD_BYTES = 64 * 1024
_IDS = b', "ids": '


def vector_count(directory: Path) -> int:
    """How many vectors the index in `directory` holds; 0 when there is none or its manifest
    is unreadable. Only the fields before the id list are parsed when the manifest is written
    in its usual order (a 740K index's manifest is tens of MB)."""
    path = directory / MANIFEST_FILE
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
            if _IDS in head:
                fields = json.loads(head[: head.index(_IDS)] + b"}")
            else:
                fields = json.loads(head + file.read())
        return int(fields["count"])
    except (OSError, ValueError, TypeError, KeyError):
        return 0
