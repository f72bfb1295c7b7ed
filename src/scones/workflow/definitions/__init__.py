"""The Scones state machine, in JSONPath (``scones.asl.json``) and JSONata (``scones.jsonata.asl.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DEFINITIONS_DIR: Final = Path(__file__).resolve().parent
JSONPATH_DEFINITION: Final = DEFINITIONS_DIR / "scones.asl.json"
JSONATA_DEFINITION: Final = DEFINITIONS_DIR / "scones.jsonata.asl.json"
