import {get} from "../api.js";
import {h, replace, table, link, route, time, duration, statusBadge, message} from "../dom.js";
import {startForm} from "./start.js";

const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

export async function executionsPage(view, _args, params, config) {
  const machines = (await get("/state-machines")).stateMachines.map((m) => m.name);
  const state = {stateMachine: params.get("stateMachine") || "", status: params.get("status") || "",
                 name: params.get("name") || "", tokens: [null]};
  let timer = null;

  const machineSelect = h("select", {id: "f-machine"}, h("option", {value: ""}, "All"),
    machines.map((m) => h("option", {value: m, selected: m === state.stateMachine ? true : null}, m)));
  const statusSelect = h("select", {id: "f-status"}, h("option", {value: ""}, "Any"),
    STATUSES.map((s) => h("option", {value: s, selected: s === state.status ? true : null}, s)));
  const nameInput = h("input", {id: "f-name", type: "search", value: state.name, autocomplete: "off",
                                placeholder: "part of a name"});
  const results = h("div", {"aria-live": "polite"});
  const prev = h("button", {type: "button"}, "Previous page");
  const next = h("button", {type: "button"}, "Next page");
  const pageNo = h("span", {class: "meta"});

  async function load() {
    clearTimeout(timer);
    const token = state.tokens[state.tokens.length - 1];
    const query = {stateMachine: state.stateMachine, status: state.status, name: state.name, token};
    let data;
    try {
      data = await get("/executions", query);
    } catch (err) {
      replace(results, message("error", err.message));
      return;
    }
    const rows = data.items.map((e) => h("tr", {},
      h("td", {}, link(route("executions", e.name), e.name)),
      h("td", {}, link(route("state-machines", e.stateMachine), e.stateMachine)),
      h("td", {}, statusBadge(e.status)),
      h("td", {}, time(e.startDate)),
      h("td", {class: "num"}, duration(e.durationMs))));
    replace(results,
      rows.length ? table(null, ["Name", "State machine", "Status", "Started", "Duration"], rows,
                          {class: "executions"}) :
        h("p", {}, "No executions match."));
    state.next = data.nextToken;
    next.disabled = !data.nextToken;
    prev.disabled = state.tokens.length <= 1;
    pageNo.textContent = `page ${state.tokens.length}`;
    const search = new URLSearchParams();
    for (const k of ["stateMachine", "status", "name"]) if (state[k]) search.set(k, state[k]);
    const qs = search.toString();
    history.replaceState(null, "", `#/executions${qs ? "?" + qs : ""}`);
    if (data.items.some((e) => e.status === "RUNNING")) timer = setTimeout(load, 2000);
  }

  function refilter() {
    state.stateMachine = machineSelect.value;
    state.status = statusSelect.value;
    state.name = nameInput.value.trim();
    state.tokens = [null];
    load();
  }
  let typing = null;
  machineSelect.addEventListener("change", refilter);
  statusSelect.addEventListener("change", refilter);
  nameInput.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(refilter, 250);
  });
  next.addEventListener("click", () => {
    if (state.next) {
      state.tokens.push(state.next);
      load();
    }
  });
  prev.addEventListener("click", () => {
    if (state.tokens.length > 1) {
      state.tokens.pop();
      load();
    }
  });

  replace(view,
    h("h1", {}, "Executions"),
    h("form", {class: "filters", role: "search", "aria-label": "Filter executions",
               onsubmit: (ev) => { ev.preventDefault(); refilter(); }},
      h("label", {for: "f-machine"}, "State machine"), machineSelect,
      h("label", {for: "f-status"}, "Status"), statusSelect,
      h("label", {for: "f-name"}, "Name"), nameInput),
    results,
    h("div", {class: "pager"}, prev, pageNo, next),
    machines.length ? h("details", {class: "start"}, h("summary", {}, "Start an execution"),
      startForm({machines, chosen: state.stateMachine || machines[0], initial: "{}", write: config.write})) : null);
  await load();
  return {stop: () => clearTimeout(timer)};
}
