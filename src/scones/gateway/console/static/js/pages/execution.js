// One execution: its graph with each state's outcome (live while it runs), the chosen state's
// input, output, error and retries, its Map iterations, its events, and the image a failure was about.
import {get, post} from "../api.js";
import {h, replace, append, table, link, route, time, duration, statusBadge, pre, pretty, message,
        objectUrl, dataImage} from "../dom.js";
import {drawGraph, legend, outcomeText} from "../graph.js";

const POLL_MS = 1000;
const ITERATION_THUMBS = 100;

function detailsOf(event) {
  for (const [k, v] of Object.entries(event)) if (k.endsWith("EventDetails") && v && typeof v === "object") return v;
  return null;
}

/** Each event's state: its own name, or the state of the event it follows. */
function statesOfEvents(events) {
  const of = new Map();
  for (const e of events) {
    const d = detailsOf(e);
    const own = d && d.name && /State(Entered|Exited)$/.test(e.type) ? d.name : null;
    of.set(e.id, own || of.get(e.previousEventId) || "");
  }
  return of;
}

function imageFigure(image, caption) {
  if (!image) return null;
  let img = null;
  let text = caption;
  if (image.kind === "s3" || image.bucket) {
    img = h("img", {alt: `Image s3://${image.bucket}/${image.key}`, class: "thumb large"});
    img.src = objectUrl(image.bucket, image.key);
    text = `${caption} s3://${image.bucket}/${image.key}`;
  } else {
    img = dataImage(image, caption);
    if (image.state) text = `${caption} (image_data in the input of ${image.state})`;
  }
  if (!img) return null;
  return h("figure", {class: "image"}, img, h("figcaption", {}, text));
}

export async function executionPage(view, [name], _params, config) {
  let data = await get(`/executions/${encodeURIComponent(name)}`);
  let selected = null;
  let selectedRun = null;
  let timer = null;
  let stopped = false;

  const head = h("div", {class: "exec-head"});
  const failure = h("div", {"aria-live": "polite"});
  const panel = h("aside", {class: "state-panel", "aria-labelledby": "panel-h", tabindex: "-1"});
  const iterations = h("div");
  const io = h("div");
  const eventFilter = h("input", {id: "event-filter", type: "search", placeholder: "type, state or text",
                                  autocomplete: "off"});
  const typeFilter = h("select", {id: "event-type"}, h("option", {value: ""}, "All types"));
  const eventsBox = h("div", {class: "events"});
  const openEvents = new Set();  // the ids of the events whose details the reader opened
  let graph = null;

  function selectState(state) {
    selected = state;
    selectedRun = null;
    renderPanel();
    if (graph) graph.update(data.states, selected);
    panel.scrollIntoView({block: "nearest"});
  }
  if (data.graph) {
    graph = drawGraph(data.graph, {onSelect: (n) => selectState(n.state), title: `Graph of ${data.execution.name}`});
  }

  function renderHead() {
    const e = data.execution;
    const stop = e.status === "RUNNING" ? h("button", {type: "button", class: "danger", disabled: config.write ? null : true,
      title: config.write ? null : "Read-only console: start scones up --console-write",
      onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await post(`/executions/${encodeURIComponent(e.name)}/stop`, {});
          refresh();
        } catch (err) {
          append(failure, message("error", err.message));
        }
      }}, "Stop execution") : null;
    replace(head,
      h("h1", {}, e.name),
      h("p", {class: "meta"}, statusBadge(e.status), " ",
        link(route("state-machines", e.stateMachine), e.stateMachine),
        ` · started ${time(e.startDate)} · ${e.stopDate ? "took " + duration(e.durationMs) : "running"}`),
      stop,
      stop && !config.write ? h("p", {class: "note readonly"},
        "Read-only console: start ", h("code", {}, "scones up --console-write"), " to stop executions here.") : null);
    const failed = data.runs.filter((r) => r.outcome === "failed");
    replace(failure, h("div", {class: "outcome-row"},
      e.error || e.cause ? h("div", {class: "failure", role: "alert"},
        h("h2", {}, failed.length ? `Failed in ${failed[failed.length - 1].state}` : "Failed"),
        h("p", {}, h("strong", {}, "Error: "), e.error || "—"),
        h("p", {class: "cause"}, h("strong", {}, "Cause: "), e.cause || "—")) : null,
      imageFigure(data.image, "The image:")));
  }

  function eventsById() {
    const m = new Map();
    for (const ev of data.events) m.set(ev.id, ev);
    return m;
  }

  function renderPanel() {
    if (!selected) {
      replace(panel, h("h2", {id: "panel-h"}, "State"), h("p", {}, "Choose a state in the graph (click, or Tab and Enter)."));
      return;
    }
    const runs = data.runs.map((r, i) => ({...r, i})).filter((r) => r.state === selected);
    if (!runs.length) {
      replace(panel, h("h2", {id: "panel-h"}, selected), h("p", {}, "Not reached."));
      return;
    }
    const order = ["running", "failed", "aborted", "caught", "retried", "succeeded"];
    if (selectedRun === null || !runs.some((r) => r.i === selectedRun)) {
      selectedRun = [...runs].sort((a, b) => order.indexOf(a.outcome) - order.indexOf(b.outcome))[0].i;
    }
    const run = data.runs[selectedRun];
    const byId = eventsById();
    const entered = detailsOf(byId.get(run.enteredEventId) || {}) || {};
    const exited = run.exitedEventId ? detailsOf(byId.get(run.exitedEventId) || {}) || {} : {};
    const label = (r) => `${r.iteration ? "item " + r.iteration.index + ": " : ""}${r.outcome}` +
      (r.durationMs !== null ? `, ${duration(r.durationMs)}` : "");
    const chooser = runs.length > 1 ? h("div", {class: "row"},
      h("label", {for: "run-select"}, `Run (${runs.length})`),
      h("select", {id: "run-select", onchange: (ev) => { selectedRun = Number(ev.target.value); renderPanel(); }},
        runs.map((r) => h("option", {value: String(r.i), selected: r.i === selectedRun ? true : null}, label(r))))) : null;
    replace(panel,
      h("h2", {id: "panel-h"}, selected),
      h("p", {class: "meta"}, `${run.type.replace(/State$/, "")} · `, statusBadge(run.outcome),
        runs.length > 1 ? ` · all runs: ${outcomeText(data.states[selected])}` : ""),
      chooser,
      h("dl", {class: "facts"},
        h("dt", {}, "Outcome"), h("dd", {}, run.outcome),
        h("dt", {}, "Duration"), h("dd", {}, duration(run.durationMs)),
        h("dt", {}, "Retries"), h("dd", {}, String(run.retries)),
        run.error || run.cause ? [h("dt", {}, "Error"), h("dd", {class: "error-text"}, run.error || "—"),
                                  h("dt", {}, "Cause"), h("dd", {class: "cause"}, run.cause || "—")] : null),
      run.failures.length > 1 ? h("details", {open: true}, h("summary", {}, `Failed attempts (${run.failures.length})`),
        h("ol", {}, run.failures.map((f) => h("li", {}, `${f.type}: ${f.error || "—"}`, f.cause ? ` — ${f.cause}` : "")))) : null,
      h("h3", {}, "Input"), pre(pretty(entered.input), `Input of ${selected}`),
      h("h3", {}, "Output"), exited.output !== undefined ? pre(pretty(exited.output), `Output of ${selected}`) :
        h("p", {class: "meta"}, run.outcome === "running" ? "Still running." : "No output."));
  }

  function renderIterations() {
    const maps = data.runs.filter((r) => r.iterations && r.iterations.length);
    if (!maps.length) {
      replace(iterations);
      return;
    }
    replace(iterations, maps.map((run) => {
      const thumbs = run.iterations.length <= ITERATION_THUMBS;
      return h("section", {"aria-label": `Iterations of ${run.state}`},
        h("h2", {}, `Map ${run.state}: ${run.iterations.length} iterations`),
        table(null, ["Item", "Outcome", "Ended in", "Image"], run.iterations.map((it) => h("tr", {},
          h("td", {class: "num"}, String(it.index)),
          h("td", {}, statusBadge(it.status)),
          h("td", {}, it.lastState ? h("button", {type: "button", class: "linkish",
            onclick: () => selectState(it.lastState)}, it.lastState) : "—"),
          h("td", {}, it.image ? (thumbs ? (() => {
            const img = h("img", {alt: `s3://${it.image.bucket}/${it.image.key}`, class: "thumb", loading: "lazy"});
            img.src = objectUrl(it.image.bucket, it.image.key);
            return h("a", {href: objectUrl(it.image.bucket, it.image.key), target: "_blank", rel: "noopener"},
              img, " ", it.image.key);
          })() : link(objectUrl(it.image.bucket, it.image.key), it.image.key, {target: "_blank", rel: "noopener"}))
            : "—")))));
    }));
  }

  function renderIO() {
    const e = data.execution;
    const open = io.firstChild ? io.firstChild.open : false;
    replace(io, h("details", {open: open || null}, h("summary", {}, "Execution input and output"),
      h("h3", {}, "Input"), pre(pretty(e.input), "Execution input"),
      h("h3", {}, "Output"), e.output !== null ? pre(pretty(e.output), "Execution output") : h("p", {}, "—")));
  }

  function renderEvents() {
    const types = [...new Set(data.events.map((e) => e.type))].sort();
    const chosenType = typeFilter.value;
    replace(typeFilter, h("option", {value: ""}, "All types"),
      types.map((t) => h("option", {value: t, selected: t === chosenType ? true : null}, t)));
    const needle = eventFilter.value.trim().toLowerCase();
    const stateOf = statesOfEvents(data.events);
    const start = data.events.length ? Date.parse(data.events[0].timestamp) : 0;
    const rows = [];
    for (const e of data.events) {
      if (chosenType && e.type !== chosenType) continue;
      const d = detailsOf(e);
      const text = d ? JSON.stringify(d) : "";
      const state = stateOf.get(e.id) || "";
      if (needle && !`${e.type} ${state} ${text}`.toLowerCase().includes(needle)) continue;
      const short = text.length > 140 ? text.slice(0, 139) + "…" : text;
      const more = h("details", {}, h("summary", {}, short || "—"));
      const fill = () => {
        if (more.children.length === 1) more.appendChild(pre(JSON.stringify(d, null, 2), `Event ${e.id}`));
      };
      if (openEvents.has(e.id)) {
        fill();
        more.open = true;
      }
      more.addEventListener("toggle", () => {
        if (more.open) {
          openEvents.add(e.id);
          fill();
        } else {
          openEvents.delete(e.id);
        }
      });
      rows.push(h("tr", {class: /Failed|TimedOut|Aborted/.test(e.type) ? "bad" : null},
        h("td", {class: "num"}, String(e.id)), h("td", {}, e.type), h("td", {}, state),
        h("td", {class: "num"}, `+${Date.parse(e.timestamp) - start} ms`), h("td", {class: "details-cell"}, more)));
    }
    replace(eventsBox,
      h("p", {class: "meta"}, `${rows.length} of ${data.events.length} events`),
      table(null, ["ID", "Type", "State", "Time", "Details"], rows, {class: "events-table"}));
  }
  eventFilter.addEventListener("input", renderEvents);
  typeFilter.addEventListener("change", renderEvents);

  function renderAll() {
    renderHead();
    if (graph) graph.update(data.states, selected);
    renderPanel();
    renderIterations();
    renderIO();
    renderEvents();
  }

  let refreshError = null;  // one line while refreshing fails, gone once it works again
  async function refresh() {
    if (stopped) return;
    try {
      const fresh = await get(`/executions/${encodeURIComponent(name)}`);
      // The history only grows: with no new event and the same status there is nothing new to draw,
      // and drawing it again would close whatever the reader opened.
      const changed = fresh.events.length !== data.events.length || fresh.execution.status !== data.execution.status;
      data = fresh;
      if (refreshError) refreshError.remove();
      refreshError = null;
      if (changed) renderAll();
    } catch (err) {
      if (refreshError) refreshError.remove();
      refreshError = message("error", `Could not refresh: ${err.message}`);
      append(failure, refreshError);
    }
    schedule();
  }
  function schedule() {
    clearTimeout(timer);
    if (!stopped && data.execution.status === "RUNNING") timer = setTimeout(refresh, POLL_MS);
  }

  replace(view,
    head, failure,
    graph ? h("section", {class: "graph-section", "aria-labelledby": "graph-h"},
      h("h2", {id: "graph-h"}, "Graph"), legend(),
      h("div", {class: "split"}, graph.element, panel)) :
      h("p", {class: "note"}, "The state machine is gone; its history is below."),
    iterations, io,
    h("section", {"aria-labelledby": "events-h"}, h("h2", {id: "events-h"}, "Events"),
      h("div", {class: "filters"}, h("label", {for: "event-filter"}, "Filter events"), eventFilter,
        h("label", {for: "event-type"}, "Type"), typeFilter),
      eventsBox));
  renderAll();
  schedule();
  return {stop: () => { stopped = true; clearTimeout(timer); }};
}
