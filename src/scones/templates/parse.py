"""Template text to a plain dict: JSON with the standard library, YAML with cfn-flip's CloudFormation loader.

cfn-flip's loader (``cfn_tools.load_yaml``) turns every short-form tag (``!Ref``,
``!GetAtt Fn.Arn``, ``!Sub``, ``!If``...) into its long form (``{"Ref": ...}``,
``{"Fn::GetAtt": ["Fn", "Arn"]}``), so the rest of scones sees one form only. Its
ordered-dict type is converted to plain dicts and lists here, once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scones.errors import NotFoundError
from scones.templates.errors import TemplateError

TEMPLATE_HINT = "give an AWS SAM or CloudFormation template (YAML or JSON) with a Resources section"


def read_text(path: Path, shown: str, *, what: str = "template") -> str:
    """The file's text, or an error that says what is wrong with the path."""
    try:
        return path.read_text("utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"No {what} at {shown}", hint=f"check the path; it is read relative to "
                            f"{'the current folder' if what == 'template' else 'the template'}") from exc
    except IsADirectoryError as exc:
        raise TemplateError(shown, "", f"is a folder, not a {what} file",
                            hint="name the file itself, e.g. template.yaml" if what == "template" else None) from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(shown, "", f"is not a UTF-8 text file ({exc.reason})", hint=TEMPLATE_HINT) from exc
    except OSError as exc:
        raise TemplateError(shown, "", f"cannot be read: {exc.strerror or exc}") from exc


def parse_text(text: str, shown: str) -> Any:
    """JSON or YAML (short-form intrinsics included) to plain Python values."""
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise TemplateError(shown, f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}",
                                hint="fix the JSON, or write the template in YAML") from exc
    import yaml
    from cfn_tools import load_yaml

    try:
        loaded = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise TemplateError(shown, where, f"not valid YAML: {problem}",
                            hint="check the indentation and the quoting around this line") from exc
    except (yaml.YAMLError, ValueError) as exc:
        # cfn-flip raises ValueError for a !GetAtt that is neither "Res.Attr" nor a list.
        raise TemplateError(shown, "", f"not valid YAML: {exc}", hint=TEMPLATE_HINT) from exc
    return plain(loaded)


def plain(value: Any) -> Any:
    """Ordered dicts to dicts, tuples to lists, dates (``AWSTemplateFormatVersion: 2010-09-09``) to text."""
    if isinstance(value, Mapping):
        return {str(k) if isinstance(k, (dt.date, int, float, bool)) else k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def read_template(path: Path, shown: str) -> dict[str, Any]:
    """The template as a dict, refused early when it is not a template at all."""
    document = parse_text(read_text(path, shown), shown)
    if isinstance(document, Mapping) and "StartAt" in document and "States" in document:
        raise TemplateError(shown, "", "is a state machine definition, not a template",
                            hint="pass it as the definition, or name it in a template's DefinitionUri")
    if not isinstance(document, Mapping):
        raise TemplateError(shown, "", f"is not a template: it holds a {type(document).__name__}, not a mapping",
                            hint=TEMPLATE_HINT)
    resources = document.get("Resources")
    if not isinstance(resources, Mapping) or not resources:
        found = ", ".join(map(str, list(document)[:6])) or "nothing"
        raise TemplateError(shown, "Resources", f"missing or empty: this is not a CloudFormation or SAM template "
                            f"(its top-level keys: {found})", hint=TEMPLATE_HINT)
    for section in ("Parameters", "Conditions", "Mappings", "Globals"):
        if section in document and not isinstance(document[section], Mapping):
            raise TemplateError(shown, section, "must be a mapping")
    return dict(document)
