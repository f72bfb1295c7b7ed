"""CloudFormation's intrinsic functions, evaluated the way the stack would see them in the one local account.

Supported: ``Ref`` (parameters with their ``Default`` or a given value, pseudo parameters,
resources), ``Fn::GetAtt``, ``Fn::Sub`` (both forms), ``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::If`` with ``Conditions`` (``Fn::Equals``, ``Fn::Not``, ``Fn::And``,
``Fn::Or``, ``Condition``), ``Fn::FindInMap`` and ``Fn::Base64``. Anything else
(``Fn::ImportValue``, ``Fn::GetAZs``, ``Fn::Cidr``, ``Fn::Transform``...) reads from
outside the template, so it is an error naming the property it sits in, and only
where scones needs that property's value: intrinsics in properties it never reads
are never evaluated.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, Final, Protocol

from scones.templates.errors import TemplateError


class _NoValue:
    """``AWS::NoValue``: the property or list item it stands for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()
PARTITION: Final = "aws"
URL_SUFFIX: Final = "amazonaws.com"
_SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_NOT_LOCAL_HINTS: Final = {
    "Fn::ImportValue": "it reads another stack's export; put the value in this template (a Parameter with a "
                       "Default) to run it locally",
    "Fn::GetAZs": "there are no availability zones locally; write the value out",
    "Fn::Transform": "macros run in CloudFormation only; expand the macro into the template",
}
_CONDITION_FUNCTIONS: Final = frozenset({"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"})


class ResourceRefs(Protocol):
    """What ``Ref`` and ``Fn::GetAtt`` of a resource give: the loader knows each resource type."""

    def has(self, logical_id: str) -> bool: ...

    def ref(self, logical_id: str, where: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str, where: str) -> Any: ...


def text_of(value: Any) -> str | None:
    """A scalar as CloudFormation writes it into a string (``true``, ``30``), None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


class Resolver:
    """Evaluates intrinsics in one template; ``where`` arguments are dotted property paths for errors."""

    def __init__(self, source: str, template: Mapping[str, Any], resources: ResourceRefs, *,
                 parameters: Mapping[str, str], region: str, account: str, stack_name: str) -> None:
        self.source = source
        self.resources = resources
        self.region = region
        self.account = account
        self.stack_name = stack_name
        self._declared: Mapping[str, Any] = template.get("Parameters") or {}
        self._conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self._mappings: Mapping[str, Any] = template.get("Mappings") or {}
        self._overrides = dict(parameters)
        self._condition_values: dict[str, bool] = {}
        self._evaluating: list[str] = []
        for name in self._overrides:
            if name not in self._declared:
                known = ", ".join(map(str, self._declared)) or "none"
                raise TemplateError(source, "Parameters", f"a value was given for {name!r}, which the template "
                                    f"does not declare", hint=f"its parameters: {known}")

    def error(self, where: str, message: str, hint: str | None = None) -> TemplateError:
        return TemplateError(self.source, where, message, hint=hint)

    # -- values ------------------------------------------------------------------

    def resolve(self, value: Any, where: str) -> Any:
        """``value`` with every intrinsic evaluated; ``NO_VALUE`` items and keys are dropped."""
        if isinstance(value, Mapping):
            if len(value) == 1:
                key = next(iter(value))
                if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                    return self._function(key, value[key], where)
            out = {}
            for key, item in value.items():
                resolved = self.resolve(item, f"{where}.{key}")
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = (self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value))
            return [item for item in items if item is not NO_VALUE]
        return value

    def resolve_text(self, value: Any, where: str, what: str = "a string") -> str:
        resolved = self.resolve(value, where)
        text = text_of(resolved)
        if text is None:
            raise self.error(where, f"must be {what}, got {_kind(resolved)}")
        return text

    def _function(self, name: str, argument: Any, where: str) -> Any:
        handlers = {"Ref": self._ref, "Fn::GetAtt": self._get_att, "Fn::Sub": self._sub, "Fn::Join": self._join,
                    "Fn::Select": self._select, "Fn::Split": self._split, "Fn::If": self._if,
                    "Fn::FindInMap": self._find_in_map, "Fn::Base64": self._base64}
        handler = handlers.get(name)
        if handler is not None:
            return handler(argument, where)
        if name in _CONDITION_FUNCTIONS:
            raise self.error(where, f"{name} is allowed only in the Conditions section",
                             hint="declare a condition with it and use Fn::If [ConditionName, a, b] here")
        raise self.error(where, f"{name} is not supported locally",
                         hint=_NOT_LOCAL_HINTS.get(name, "write the value out, or use Ref, Fn::GetAtt, Fn::Sub, "
                                                   "Fn::Join, Fn::Select, Fn::Split, Fn::If or Fn::FindInMap"))

    # -- Ref and Fn::GetAtt --------------------------------------------------------

    def _ref(self, argument: Any, where: str) -> Any:
        if not isinstance(argument, str):
            raise self.error(where, f"Ref takes a name, got {_kind(argument)}")
        if argument.startswith("AWS::"):
            return self._pseudo(argument, where)
        if argument in self._declared:
            return self.parameter(argument, where)
        if self.resources.has(argument):
            return self.resources.ref(argument, where)
        raise self.error(where, f"Ref to {argument!r}, which is neither a parameter nor a resource of this template",
                         hint="check the spelling against the Parameters and Resources sections")

    def _pseudo(self, name: str, where: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::StackName": self.stack_name,
            "AWS::Partition": PARTITION, "AWS::URLSuffix": URL_SUFFIX, "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/"
                            "00000000-0000-0000-0000-000000000000"}
        if name not in values:
            raise self.error(where, f"Ref to {name}, which is not a CloudFormation pseudo parameter",
                             hint="pseudo parameters: " + ", ".join(sorted(values)))
        return values[name]

    def parameter(self, name: str, where: str) -> Any:
        """A parameter's value: the one given, else its ``Default``; list types as lists."""
        declaration = self._declared[name]
        declaration = declaration if isinstance(declaration, Mapping) else {}
        kind = str(declaration.get("Type", "String"))
        if name in self._overrides:
            raw: Any = self._overrides[name]
        elif kind.startswith("AWS::SSM::Parameter"):
            raise self.error(where, f"Ref to parameter {name!r} of type {kind}, which is read from SSM Parameter "
                             "Store; scones does not reach it", hint=f"give {name} its value when loading the "
                             "template, or make it a String with a Default")
        elif "Default" in declaration:
            raw = declaration["Default"]
        else:
            raise self.error(where, f"Ref to parameter {name!r}, which has no Default and was given no value",
                             hint=f"give {name} a Default in the Parameters section, or a value when loading "
                                  "the template")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return [str(text_of(item) or "").strip() for item in items]
        value = text_of(raw)
        if value is None:
            raise self.error(f"Parameters.{name}", f"the value must be a string or number, got {_kind(raw)}")
        allowed = declaration.get("AllowedValues")
        if isinstance(allowed, list) and value not in [text_of(a) for a in allowed]:
            raise self.error(f"Parameters.{name}", f"{value!r} is not one of its AllowedValues "
                             f"({', '.join(str(text_of(a)) for a in allowed)})")
        return value

    def _get_att(self, argument: Any, where: str) -> Any:
        if isinstance(argument, str) and "." in argument:
            logical, attribute = argument.split(".", 1)
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            logical, attribute = argument[0], self.resolve_text(argument[1], where, "an attribute name")
        else:
            raise self.error(where, "Fn::GetAtt takes [LogicalId, Attribute] or 'LogicalId.Attribute'")
        if not self.resources.has(logical):
            raise self.error(where, f"Fn::GetAtt of {logical!r}, which is not a resource of this template",
                             hint="check the spelling against the Resources section")
        return self.resources.get_att(logical, attribute, where)

    # -- strings and lists -----------------------------------------------------------

    def _sub(self, argument: Any, where: str) -> str:
        variables: Mapping[str, Any]
        if isinstance(argument, str):
            text, variables = argument, {}
        elif (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)
              and isinstance(argument[1], Mapping)):
            text, variables = argument[0], argument[1]
        else:
            raise self.error(where, "Fn::Sub takes a string, or [string, {Name: value}]")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = self.resolve(variables[name], where)
            elif "." in name and not name.startswith("AWS::"):
                value = self._get_att(name, where)
            else:
                value = self._ref(name, where)
            text_value = text_of(value)
            if text_value is None:
                raise self.error(where, f"Fn::Sub variable ${{{name}}} is {_kind(value)}, not a string")
            return text_value

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, argument: Any, where: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise self.error(where, "Fn::Join takes [delimiter, [values...]]")
        delimiter = self.resolve_text(argument[0], where, "a delimiter string")
        items = self.resolve(argument[1], where)
        if not isinstance(items, list):
            raise self.error(where, f"Fn::Join needs a list of values, got {_kind(items)}")
        texts = []
        for item in items:
            text = text_of(item)
            if text is None:
                raise self.error(where, f"Fn::Join can join strings only, got {_kind(item)}")
            texts.append(text)
        return delimiter.join(texts)

    def _select(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise self.error(where, "Fn::Select takes [index, [values...]]")
        index_text = self.resolve_text(argument[0], where, "an index")
        items = self.resolve(argument[1], where)
        if not isinstance(items, list):
            raise self.error(where, f"Fn::Select needs a list, got {_kind(items)}")
        try:
            index = int(index_text)
        except ValueError as exc:
            raise self.error(where, f"Fn::Select index {index_text!r} is not a number") from exc
        if not 0 <= index < len(items):
            raise self.error(where, f"Fn::Select index {index} is outside the list of {len(items)}")
        return items[index]

    def _split(self, argument: Any, where: str) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise self.error(where, "Fn::Split takes [delimiter, string]")
        delimiter = self.resolve_text(argument[0], where, "a delimiter string")
        if not delimiter:
            raise self.error(where, "Fn::Split needs a non-empty delimiter")
        return self.resolve_text(argument[1], where).split(delimiter)

    def _base64(self, argument: Any, where: str) -> str:
        return base64.b64encode(self.resolve_text(argument, where).encode("utf-8")).decode("ascii")

    def _find_in_map(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise self.error(where, "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]")
        names = [self.resolve_text(part, where, "a key") for part in argument]
        found: Any = self._mappings
        for depth, name in enumerate(names):
            if not isinstance(found, Mapping) or name not in found:
                path = ".".join(["Mappings", *names[:depth]])
                raise self.error(where, f"Fn::FindInMap: {path} has no key {name!r}")
            found = found[name]
        return self.resolve(found, where)

    # -- conditions ------------------------------------------------------------------

    def _if(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
            raise self.error(where, "Fn::If takes [ConditionName, value if true, value if false]")
        chosen = argument[1] if self.condition(argument[0], where) else argument[2]
        return self.resolve(chosen, where)

    def condition(self, name: str, where: str) -> bool:
        """The value of the condition ``name`` of the Conditions section (each evaluated once)."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self._conditions:
            raise self.error(where, f"no condition named {name!r} in the Conditions section",
                             hint="declared conditions: " + (", ".join(map(str, self._conditions)) or "none"))
        if name in self._evaluating:
            raise self.error(f"Conditions.{name}", "the condition depends on itself: "
                             + " -> ".join([*self._evaluating, name]))
        self._evaluating.append(name)
        try:
            value = self._evaluate(self._conditions[name], f"Conditions.{name}")
        finally:
            self._evaluating.pop()
        self._condition_values[name] = value
        return value

    def _evaluate(self, node: Any, where: str) -> bool:
        if isinstance(node, bool):
            return node
        if not (isinstance(node, Mapping) and len(node) == 1):
            raise self.error(where, "a condition must be one of Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition")
        name, argument = next(iter(node.items()))
        if name == "Condition" and isinstance(argument, str):
            return self.condition(argument, where)
        if name == "Fn::Equals":
            if not (isinstance(argument, list) and len(argument) == 2):
                raise self.error(where, "Fn::Equals takes [value, value]")
            left, right = (self.resolve(a, where) for a in argument)
            return (text_of(left) if text_of(left) is not None else left) == \
                (text_of(right) if text_of(right) is not None else right)
        if name in ("Fn::Not", "Fn::And", "Fn::Or") and isinstance(argument, list) and argument:
            values = [self._evaluate(a, where) for a in argument]
            if name == "Fn::Not":
                if len(values) != 1:
                    raise self.error(where, "Fn::Not takes a list of exactly one condition")
                return not values[0]
            return all(values) if name == "Fn::And" else any(values)
        raise self.error(where, f"{name} is not a condition function (Fn::Equals, Fn::Not, Fn::And, Fn::Or, "
                         "Condition), or its arguments are not a list of conditions")


def _kind(value: Any) -> str:
    if value is NO_VALUE:
        return "AWS::NoValue"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"
