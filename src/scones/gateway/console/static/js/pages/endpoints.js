import {get} from "../api.js";
import {h, svg, replace, append, table, link, route, duration, message, objectUrl, dataImage} from "../dom.js";

export async function endpointsPage(view) {
  const data = await get("/endpoints");
  replace(view, h("h1", {}, "Endpoints"),
    data.endpoints.length ? table(null, ["Name", "Variant", "Model", "Invocations", "Errors", "Mean latency"],
      data.endpoints.map((e) => h("tr", {},
        h("td", {}, link(route("endpoints", e.name), e.name)), h("td", {}, e.variant), h("td", {}, e.model),
        h("td", {class: "num"}, String(e.invocations)), h("td", {class: "num"}, String(e.errors)),
        h("td", {class: "num"}, duration(e.latency.meanMs))))) :
      message("info", "No endpoints: put a model at <bucket>/model/model.tar.gz or start scones up --endpoint NAME=MODEL."));
}

function perMinuteChart(points) {
  const w = 600, hgt = 120, max = Math.max(1, ...points.map((p) => p.count));
  const bar = w / points.length;
  const total = points.reduce((n, p) => n + p.count, 0);
  const chart = svg("svg", {viewBox: `0 0 ${w} ${hgt + 18}`, class: "chart", role: "img",
                            "aria-label": `Invocations per minute over the last hour: ${total} in all, at most ${max} in a minute`},
    points.map((p, i) => {
      const bh = (p.count / max) * hgt;
      return svg("rect", {x: i * bar + 1, y: hgt - bh, width: Math.max(1, bar - 2), height: bh, class: "bar"},
        svg("title", {}, `${new Date(p.minute * 1000).toLocaleTimeString()}: ${p.count}`));
    }),
    svg("text", {x: 0, y: hgt + 14, class: "axis"}, "60 min ago"),
    svg("text", {x: w, y: hgt + 14, class: "axis", "text-anchor": "end"}, "now"),
    svg("text", {x: 4, y: 12, class: "axis"}, `max ${max}/min`));
  return chart;
}

export async function endpointPage(view, [name]) {
  const e = await get(`/endpoints/${encodeURIComponent(name)}`);
  const records = h("tbody");
  const more = h("button", {type: "button"}, "Load older records");
  const status = h("p", {class: "meta", "aria-live": "polite"});
  let cursor = null;

  async function loadCaptures() {
    more.disabled = true;
    const page = await get(`/endpoints/${encodeURIComponent(name)}/captures`, {cursor});
    for (const r of page.records) {
      const p = r.prediction;
      append(records, h("tr", {class: p && !p.passed ? "bad" : null},
        h("td", {}, r.inferenceTime.replace("T", " ").replace("+00:00", "Z")),
        h("td", {}, dataImage(r.image, `Captured image ${r.eventId}`) || "—"),
        h("td", {}, p ? (p.name !== null ? p.name : `class ${p.index}`) : "—"),
        h("td", {class: "num"}, p ? `${(p.confidence * 100).toFixed(1)} %` : "—"),
        h("td", {}, p ? (p.passed ? "✓ passed" : "✗ below threshold") : "—"),
        h("td", {}, r.inferenceId || "")));
    }
    cursor = page.next;
    more.disabled = !cursor;
    status.textContent = page.note || (records.children.length ? `${records.children.length} records shown` : "No captured records yet.");
  }
  more.addEventListener("click", () => loadCaptures().catch((err) => {
    more.disabled = false;
    status.textContent = `Could not load older records: ${err.message}`;
  }));

  const report = e.report ? link(objectUrl(e.report.bucket, e.report.key), "Open the monitoring report",
                                 {target: "_blank", rel: "noopener"}) :
    h("span", {}, "No monitoring report yet (", h("code", {}, "scones monitor"), " writes one).");
  replace(view,
    h("h1", {}, e.name),
    h("dl", {class: "facts wide"},
      h("dt", {}, "Variant"), h("dd", {}, e.variant),
      h("dt", {}, "Model"), h("dd", {}, e.model),
      h("dt", {}, "Classes"), h("dd", {}, e.classes ? e.classes.join(", ") : "—"),
      h("dt", {}, "Threshold"), h("dd", {}, `${e.threshold} (${e.thresholdSource === "default" ? "filterInferences' default" : e.thresholdSource})`),
      h("dt", {}, "Invocations"), h("dd", {}, `${e.invocations} (${e.errors} errors)`),
      h("dt", {}, "Latency"), h("dd", {}, `mean ${duration(e.latency.meanMs)} · p50 ≤ ${duration(e.latency.p50Ms)} · p99 ≤ ${duration(e.latency.p99Ms)}`),
      h("dt", {}, "Data Capture"), h("dd", {}, e.capture || "off"),
      h("dt", {}, "Monitoring"), h("dd", {}, report)),
    h("h2", {}, "Invocations per minute"), perMinuteChart(e.perMinute),
    h("h2", {}, "Captured records, newest first"),
    table(null, ["Time", "Image", "Predicted class", "Confidence", `Threshold ${e.threshold}`, "Inference ID"], [],
          {class: "captures"}),
    status, more);
  view.querySelector("table.captures").replaceChild(records, view.querySelector("table.captures tbody"));
  await loadCaptures();
}
