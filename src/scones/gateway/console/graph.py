"""A state machine's definition as a graph the console draws: nodes, edges and the boxes around branches.

The layout is the browser's (a vendored dagre); this module only says what is connected to
what, and how: ``next``, a Choice rule (labelled with its condition, or ``Default``), a ``catch``
(labelled with the errors it catches), a ``retry`` (a loop on the state itself), and the way into a
Parallel branch or a Map's item processor. A Parallel or Map state is two nodes, the state itself
and its ``join``: the branches start after the first and end before the second, and ``Next`` leaves
from the join, so the drawing reads top to bottom in the order things happen.

Node ids are paths (``ClassifyEach/SerializeImageData``) so a name used in two branches stays two
nodes; ``state`` is the name the execution history uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

START: Final = "__start__"
END: Final = "__end__"
#: A condition longer than this is cut in the drawing (the whole text is the edge's ``title``).
LABEL_CHARS: Final = 48


class EdgeKind(str, Enum):
    NEXT = "next"
    CHOICE = "choice"
    DEFAULT = "default"
    CATCH = "catch"
    RETRY = "retry"
    BRANCH = "branch"
    ITERATION = "iteration"


@dataclass
class Node:
    id: str
    state: str | None  # the state's name (None for start, end and joins)
    type: str  # a States Language type, or start / end / join
    parent: str | None  # the cluster it is drawn in
    label: str
    retry: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "type": self.type, "parent": self.parent, "label": self.label,
                "retry": self.retry}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "kind": self.kind.value, "label": self.label,
                "title": self.title or self.label}


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str
    parent: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "parent": self.parent}


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"nodes": [n.to_json() for n in self.nodes], "edges": [e.to_json() for e in self.edges],
                "clusters": [c.to_json() for c in self.clusters]}


def definition_graph(definition: Mapping[str, Any] | str) -> Graph:
    """The graph of a (validated) definition; unknown or odd parts are drawn as far as they go, never raised."""
    document = json.loads(definition) if isinstance(definition, str) else definition
    graph = Graph()
    graph.nodes.append(Node(START, None, "start", None, "Start"))
    graph.nodes.append(Node(END, None, "end", None, "End"))
    first, ends = _machine(graph, document, prefix="", parent=None)
    if first is not None:
        graph.edges.append(Edge(START, first, EdgeKind.NEXT))
    for end in ends:
        graph.edges.append(Edge(end, END, EdgeKind.NEXT))
    return graph


def _machine(graph: Graph, machine: Mapping[str, Any], *, prefix: str, parent: str | None) -> tuple[str | None,
                                                                                                    list[str]]:
    """Add one (sub-)machine's states; returns the id of its first state and the ids that end it."""
    states = machine.get("States")
    if not isinstance(states, Mapping):
        return None, []
    ids = {name: f"{prefix}{name}" for name in states}
    ends: list[str] = []
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        node_id = ids[name]
        kind = str(state.get("Type", "?"))
        node = Node(node_id, name, kind, parent, name, retry=_retries(state))
        graph.nodes.append(node)
        exit_id = node_id
        if kind in ("Parallel", "Map"):
            exit_id = _branches(graph, node, state)
        if node.retry:
            graph.edges.append(Edge(node_id, node_id, EdgeKind.RETRY, "retry", "; ".join(node.retry)))
        nxt = state.get("Next")
        if isinstance(nxt, str) and nxt in ids:
            graph.edges.append(Edge(exit_id, ids[nxt], EdgeKind.NEXT))
        if state.get("End") is True or kind in ("Succeed",):
            ends.append(exit_id)
        if kind == "Choice":
            _choices(graph, node_id, state, ids)
        for catcher in state.get("Catch") or []:
            if isinstance(catcher, Mapping) and catcher.get("Next") in ids:
                errors = catcher.get("ErrorEquals") or []
                label = ", ".join(str(e) for e in errors) if isinstance(errors, list) else str(errors)
                graph.edges.append(Edge(node_id, ids[catcher["Next"]], EdgeKind.CATCH, _cut(f"catch {label}"),
                                        f"catch {label}"))
    start = machine.get("StartAt")
    return (ids[start] if isinstance(start, str) and start in ids else None), ends


def _branches(graph: Graph, node: Node, state: Mapping[str, Any]) -> str:
    """The clusters of a Parallel's branches or a Map's item processor; returns the join's id."""
    join = f"{node.id}/__join__"
    if node.type == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        machines = [("items", processor, EdgeKind.ITERATION)]
    else:
        branches = state.get("Branches") or []
        machines = [(f"branch {i + 1}", b, EdgeKind.BRANCH) for i, b in enumerate(branches)]
    for i, (label, machine, kind) in enumerate(machines):
        if not isinstance(machine, Mapping):
            continue
        cluster = f"{node.id}/__{i}__"
        title = f"{node.label}: item processor" if node.type == "Map" else f"{node.label}: {label}"
        graph.clusters.append(Cluster(cluster, title, node.parent))
        first, ends = _machine(graph, machine, prefix=f"{node.id}/", parent=cluster) if node.type == "Map" \
            else _machine(graph, machine, prefix=f"{node.id}/{i}/", parent=cluster)
        if first is not None:
            graph.edges.append(Edge(node.id, first, kind, "each item" if node.type == "Map" else label))
        for end in ends:
            graph.edges.append(Edge(end, join, EdgeKind.NEXT))
    graph.nodes.append(Node(join, None, "join", node.parent, f"end of {node.label}"))
    return join


def _choices(graph: Graph, node_id: str, state: Mapping[str, Any], ids: Mapping[str, str]) -> None:
    for rule in state.get("Choices") or []:
        if isinstance(rule, Mapping) and rule.get("Next") in ids:
            text = describe_rule(rule)
            graph.edges.append(Edge(node_id, ids[rule["Next"]], EdgeKind.CHOICE, _cut(text), text))
    default = state.get("Default")
    if isinstance(default, str) and default in ids:
        graph.edges.append(Edge(node_id, ids[default], EdgeKind.DEFAULT, "Default"))


def _retries(state: Mapping[str, Any]) -> list[str]:
    out = []
    for retrier in state.get("Retry") or []:
        if not isinstance(retrier, Mapping):
            continue
        errors = retrier.get("ErrorEquals") or []
        names = ", ".join(str(e) for e in errors) if isinstance(errors, list) else str(errors)
        attempts = retrier.get("MaxAttempts", 3)
        out.append(f"{names} (up to {attempts}×)")
    return out


#: The operator keys of a Choice rule, besides Variable / Next (everything else is an operator).
_NOT_OPERATORS: Final = frozenset({"Variable", "Next", "Comment", "Assign", "Output"})


def describe_rule(rule: Mapping[str, Any]) -> str:
    """A Choice rule as one line: ``$.x NumericGreaterThan 5``, ``not (…)``, ``(…) and (…)``, a JSONata condition."""
    if "Condition" in rule:
        return str(rule["Condition"])
    if "And" in rule or "Or" in rule:
        word = "and" if "And" in rule else "or"
        parts = rule.get("And") or rule.get("Or") or []
        return f" {word} ".join(f"({describe_rule(p)})" for p in parts if isinstance(p, Mapping))
    if "Not" in rule and isinstance(rule["Not"], Mapping):
        return f"not ({describe_rule(rule['Not'])})"
    variable = rule.get("Variable", "")
    for key, value in rule.items():
        if key not in _NOT_OPERATORS:
            return f"{variable} {key} {json.dumps(value, ensure_ascii=False)}"
    return str(variable)


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"
