// A state machine drawn as SVG: the layout is dagre's (vendor/dagre.min.js), the shapes are ours.
// Nodes are focusable buttons (Tab, Enter/Space); every outcome is written in words, not only colours.
import {svg, h} from "./dom.js";

const CHAR = 7.2;        // average glyph width of the node font, for sizing boxes before drawing
const PAD = 26;
const LABEL_KINDS = new Set(["choice", "default", "catch", "branch", "iteration"]);
const RETRY_ROOM = 52;

function nodeSize(node) {
  if (node.type === "start" || node.type === "end") return {width: 56, height: 28};
  if (node.type === "join") return {width: Math.max(60, node.label.length * 6 + 16), height: 20};
  const text = Math.max(node.label.length, node.type.length + 2, 14);
  return {width: Math.min(320, text * CHAR + PAD), height: 48};
}

export function outcomeText(summary) {
  if (!summary) return "not reached";
  const counts = Object.entries(summary.counts || {});
  const total = counts.reduce((n, [, c]) => n + c, 0);
  if (total <= 1) return summary.outcome;
  return counts.map(([k, c]) => `${c} ${k}`).join(" · ");
}

function clipped(text, max) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/**
 * Draw `graph` ({nodes, edges, clusters} from the API). `onSelect(node)` runs when a state is chosen.
 * Returns {element, update(states, selectedState)}.
 */
export function drawGraph(graph, {onSelect, title} = {}) {
  if (!window.dagre) {
    return {element: h("p", {class: "note error"}, "The graph library did not load."), update() {}};
  }
  const g = new window.dagre.graphlib.Graph({compound: true, multigraph: true});
  g.setGraph({rankdir: "TB", nodesep: 28, ranksep: 44, edgesep: 14, marginx: 16, marginy: 16});
  g.setDefaultEdgeLabel(() => ({}));
  for (const c of graph.clusters) g.setNode(c.id, {label: c.label, cluster: true});
  for (const c of graph.clusters) if (c.parent) g.setParent(c.id, c.parent);
  for (const n of graph.nodes) {
    const size = nodeSize(n);
    // A state with Retry gets room on its right for the retry loop (dagre's own self-loops are not drawn well).
    g.setNode(n.id, {width: size.width + (n.retry && n.retry.length ? RETRY_ROOM : 0), height: size.height,
                     box: size, data: n});
    if (n.parent) g.setParent(n.id, n.parent);
  }
  graph.edges.forEach((e, i) => {
    if (e.source === e.target) return;  // drawn by hand below
    const label = LABEL_KINDS.has(e.kind) ? clipped(e.label, 48) : "";
    g.setEdge(e.source, e.target, {label, width: label ? label.length * 6.2 + 8 : 0, height: label ? 16 : 0,
                                   labelpos: "c", data: e}, `e${i}`);
  });
  window.dagre.layout(g);
  const size = g.graph();
  const width = Math.ceil(size.width || 200), height = Math.ceil(size.height || 100);

  const root = svg("svg", {class: "graph", viewBox: `0 0 ${width} ${height}`, width, height, role: "group",
                           "aria-label": title || "State machine graph"});
  root.appendChild(svg("defs", {},
    ...["next", "choice", "default", "catch", "retry", "branch", "iteration"].map((kind) =>
      svg("marker", {id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7",
                     markerHeight: "7", orient: "auto-start-reverse", class: `arrow e-${kind}`},
        svg("path", {d: "M 0 0 L 10 5 L 0 10 z"})))));

  const clusters = svg("g", {class: "clusters"});
  for (const c of graph.clusters) {
    const box = g.node(c.id);
    if (!box || box.width === undefined) continue;
    clusters.appendChild(svg("g", {class: "cluster"},
      svg("rect", {x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height,
                   rx: 8}),
      svg("text", {x: box.x - box.width / 2 + 8, y: box.y - box.height / 2 + 14, class: "cluster-label"},
        clipped(c.label, Math.max(8, Math.floor(box.width / 6.5))))));
  }
  root.appendChild(clusters);

  const edges = svg("g", {class: "edges"});
  for (const ref of g.edges()) {
    const e = g.edge(ref);
    const data = e.data;
    const pts = e.points || [];
    if (!pts.length) continue;
    const d = pts.map((p, i) => `${i ? "L" : "M"} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(" ");
    const group = svg("g", {class: ["edge", `e-${data.kind}`]},
      svg("title", {}, `${data.kind}${data.title ? ": " + data.title : ""}`),
      svg("path", {d, "marker-end": `url(#arrow-${data.kind})`}));
    if (e.label && e.x !== undefined) {
      group.appendChild(svg("rect", {class: "edge-label-bg", x: e.x - e.width / 2, y: e.y - 9, width: e.width,
                                     height: 16, rx: 3}));
      group.appendChild(svg("text", {class: "edge-label", x: e.x, y: e.y + 3, "text-anchor": "middle"}, e.label));
    }
    edges.appendChild(group);
  }
  root.appendChild(edges);

  const nodes = svg("g", {class: "nodes"});
  const byState = new Map();
  for (const n of graph.nodes) {
    const laid = g.node(n.id);
    const box = {x: laid.x - (laid.width - laid.box.width) / 2, y: laid.y, width: laid.box.width,
                 height: laid.box.height};
    const x = box.x - box.width / 2, y = box.y - box.height / 2;
    if (n.retry && n.retry.length) {
      const x1 = x + box.width, top = box.y - 9, bottom = box.y + 9;
      edges.appendChild(svg("g", {class: ["edge", "e-retry"]},
        svg("title", {}, `retry: ${n.retry.join("; ")}`),
        svg("path", {d: `M ${x1} ${top} C ${x1 + 34} ${top - 14}, ${x1 + 34} ${bottom + 14}, ${x1 + 2} ${bottom}`,
                     "marker-end": "url(#arrow-retry)"}),
        svg("text", {class: "edge-label", x: x1 + 20, y: box.y + 4}, "retry")));
    }
    let group;
    if (n.type === "start" || n.type === "end") {
      group = svg("g", {class: ["node", "terminal"]},
        svg("rect", {x, y, width: box.width, height: box.height, rx: 14}),
        svg("text", {x: box.x, y: box.y + 4, "text-anchor": "middle"}, n.label));
    } else if (n.type === "join") {
      group = svg("g", {class: ["node", "join"]},
        svg("rect", {x, y, width: box.width, height: box.height, rx: 10}),
        svg("text", {x: box.x, y: box.y + 4, "text-anchor": "middle"}, clipped(n.label, 40)));
    } else {
      const status = svg("text", {x: box.x, y: y + 39, "text-anchor": "middle", class: "node-status"}, "");
      group = svg("g", {class: ["node", "state", "o-not-reached"], tabindex: "0", role: "button",
                        "data-state": n.state},
        svg("title", {}, `${n.state} (${n.type})${n.retry.length ? "\nRetry: " + n.retry.join("; ") : ""}`),
        svg("rect", {x, y, width: box.width, height: box.height, rx: 6}),
        svg("text", {x: box.x, y: y + 17, "text-anchor": "middle", class: "node-name"},
          clipped(n.label, Math.floor((box.width - 10) / CHAR))),
        svg("text", {x: box.x, y: y + 28, "text-anchor": "middle", class: "node-type"},
          n.retry.length ? `${n.type} · retry` : n.type),
        status);
      const choose = () => onSelect && onSelect(n);
      group.addEventListener("click", choose);
      group.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          choose();
        }
      });
      if (!byState.has(n.state)) byState.set(n.state, []);
      byState.get(n.state).push({group, status, node: n});
    }
    nodes.appendChild(group);
  }
  root.appendChild(nodes);

  function update(states, selected) {
    for (const [state, entries] of byState) {
      const summary = states ? states[state] : null;
      const outcome = summary ? summary.outcome : "not reached";
      const words = states ? outcomeText(summary) : "";
      for (const {group, status, node} of entries) {
        const classes = ["node", "state", states ? `o-${outcome.replace(/ /g, "-")}` : "o-definition"];
        if (selected === state) classes.push("selected");
        group.setAttribute("class", classes.join(" "));
        status.textContent = words;
        group.setAttribute("aria-label", `${state}, ${node.type}${states ? ", " + words : ""}`);
        group.setAttribute("aria-pressed", selected === state ? "true" : "false");
      }
    }
  }
  update(null, null);
  return {element: h("div", {class: "graph-wrap"}, root), update};
}

export function legend(outcomes = true) {
  const items = outcomes ? ["succeeded", "retried", "caught", "failed", "running", "aborted", "not reached"] : [];
  return h("ul", {class: "legend", "aria-label": "Outcome colours"},
    items.map((o) => h("li", {class: `o-${o.replace(/ /g, "-")}`}, h("span", {class: "swatch"}), o)),
    h("li", {class: "edge-key"}, "dashed red: Catch · dotted loop: Retry · blue dashes: branch / item"));
}
