import {get} from "../api.js";
import {h, replace, table, link, route, time, statusBadge, pre, duration} from "../dom.js";
import {drawGraph, legend} from "../graph.js";
import {startForm} from "./start.js";

export async function machinesPage(view) {
  const data = await get("/state-machines");
  replace(view,
    h("h1", {}, "State machines"),
    data.stateMachines.length ? table(null, ["Name", "Type", "Status", "Created"],
      data.stateMachines.map((m) => h("tr", {},
        h("td", {}, link(route("state-machines", m.name), m.name)),
        h("td", {}, m.type), h("td", {}, m.status), h("td", {}, time(m.creationDate))))) :
      h("p", {}, "No state machines yet."));
}

export async function machinePage(view, [name], _params, config) {
  const [machine, recent, all] = await Promise.all([
    get(`/state-machines/${encodeURIComponent(name)}`),
    get("/executions", {stateMachine: name, limit: 10}),
    get("/state-machines"),
  ]);
  const graph = drawGraph(machine.graph, {title: `Graph of ${machine.name}`});
  replace(view,
    h("h1", {}, machine.name),
    h("p", {class: "meta"}, `${machine.type} · ${machine.status} · created ${time(machine.creationDate)}`),
    h("section", {"aria-labelledby": "graph-h"}, h("h2", {id: "graph-h"}, "Definition"), legend(false), graph.element),
    h("section", {"aria-labelledby": "start-h"}, h("h2", {id: "start-h"}, "Start an execution"),
      startForm({machines: all.stateMachines.map((m) => m.name), chosen: machine.name,
                 initial: machine.lastInput || "{}", write: config.write})),
    h("section", {"aria-labelledby": "recent-h"}, h("h2", {id: "recent-h"}, "Recent executions"),
      recent.items.length ? table(null, ["Name", "Status", "Started", "Duration"], recent.items.map((e) =>
        h("tr", {}, h("td", {}, link(route("executions", e.name), e.name)), h("td", {}, statusBadge(e.status)),
          h("td", {}, time(e.startDate)), h("td", {}, duration(e.durationMs))))) : h("p", {}, "None yet."),
      h("p", {}, link(`#/executions?stateMachine=${encodeURIComponent(machine.name)}`, "All its executions"))),
    h("details", {}, h("summary", {}, "Definition (Amazon States Language)"), pre(machine.definition, "Definition")));
}
