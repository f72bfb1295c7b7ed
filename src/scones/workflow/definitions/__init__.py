"""The Scones state machine, in JSONPath (``scones.asl.json``) and JSONata (``scones.jsonata.asl.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from scones.errors import NotFoundError, WorkflowError

DEFINITIONS_DIR: Final = Path(__file__).resolve().parent
JSONPATH_DEFINITION: Final = DEFINITIONS_DIR / "scones.asl.json"
JSONATA_DEFINITION: Final = DEFINITIONS_DIR / "scones.jsonata.asl.json"
DEFAULT_DEFINITION: Final = "scones"
BATCH_DEFINITION: Final = "scones-batch"


def read_definition(name_or_path: str | Path = DEFAULT_DEFINITION) -> str:
    """The text of a shipped definition by name (``scones``, ``scones-batch``) or of any ASL file by path."""
    path = definition_path(name_or_path)
    hint = "give a path to an .asl.json file, or 'scones' / 'scones-batch' / 'scones.jsonata'"
    try:
        return path.read_text("utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"No state machine definition at {path}", hint=hint) from exc
    except IsADirectoryError as exc:
        raise WorkflowError(f"{path} is a folder, not a state machine definition", hint=hint) from exc
    except OSError as exc:
        raise WorkflowError(f"Cannot read the definition {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise WorkflowError(f"{path} is not a JSON state machine definition: {exc}") from exc


def definition_path(name_or_path: str | Path) -> Path:
    """A bare name (``scones``, ``scones-batch``, ``scones.jsonata``) is a shipped definition, whatever the
    current folder holds (a checkout named ``scones`` beside you must not shadow it); a file of the same
    name is reached as ``./scones``."""
    path = Path(name_or_path)
    if len(path.parts) == 1 and not str(name_or_path).startswith("./"):
        shipped = DEFINITIONS_DIR / f"{name_or_path}.asl.json"
        if shipped.is_file() or (not path.suffix and not path.exists()):
            return shipped
    return path


def load_definition(name_or_path: str | Path = DEFAULT_DEFINITION) -> dict[str, Any]:
    """``read_definition``, parsed: the definition as a JSON object."""
    from scones.workflow.asl.jsontext import JsonTextError, parse_json

    path = definition_path(name_or_path)
    try:
        definition = parse_json(read_definition(name_or_path))
    except JsonTextError as exc:
        raise WorkflowError(f"{path} is not a JSON state machine definition: {exc}") from exc
    if not isinstance(definition, dict):
        raise WorkflowError(f"{path} holds no JSON object")
    return definition
