import {get} from "../api.js";
import {h, replace, table, link, route, time, duration, pre, message} from "../dom.js";

export async function functionsPage(view) {
  const data = await get("/functions");
  replace(view, h("h1", {}, "Functions"),
    data.functions.length ? table(null, ["Name", "Handler", "Invocations", "Errors", "p50", "p99"],
      data.functions.map((f) => h("tr", {},
        h("td", {}, link(route("functions", f.name), f.name)), h("td", {}, h("code", {}, f.handler)),
        h("td", {class: "num"}, String(f.invocations)), h("td", {class: "num"}, String(f.errors)),
        h("td", {class: "num"}, duration(f.p50Ms)), h("td", {class: "num"}, duration(f.p99Ms))))) :
      h("p", {}, "No functions."));
}

export async function functionPage(view, [name]) {
  const f = await get(`/functions/${encodeURIComponent(name)}`);
  const json = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));
  replace(view,
    h("h1", {}, f.name),
    h("dl", {class: "facts wide"},
      h("dt", {}, "Handler"), h("dd", {}, h("code", {}, f.handler)),
      h("dt", {}, "Timeout"), h("dd", {}, `${f.timeoutSeconds} s`),
      h("dt", {}, "Memory"), h("dd", {}, `${f.memoryMb} MB`),
      h("dt", {}, "Invocations"), h("dd", {}, String(f.invocations)),
      h("dt", {}, "Errors"), h("dd", {}, String(f.errors)),
      h("dt", {}, "Duration p50 / p99"), h("dd", {}, `${duration(f.p50Ms)} / ${duration(f.p99Ms)}`)),
    h("h2", {}, `Recent invocations (${f.recent.length}, newest first)`),
    f.recent.length ? f.recent.map((r) => h("details", {class: ["invocation", r.errorType ? "bad" : null]},
      h("summary", {}, `${time(r.started)} · ${duration(r.durationMs)} · ${r.errorType || "ok"} · ${r.requestId}`),
      h("h3", {}, "Event"), pre(json(r.event), `Event of ${r.requestId}`),
      h("h3", {}, "Result"), pre(json(r.result), `Result of ${r.requestId}`),
      h("h3", {}, "Log"), pre(r.log || "(empty)", `Log of ${r.requestId}`))) :
      message("info", "No invocations since scones up started."));
}
