// The console: a hash router over a few pages, each fetching JSON and building its DOM.
import {get} from "./api.js";
import {h, replace, message} from "./dom.js";
import {machinesPage, machinePage} from "./pages/machines.js";
import {executionsPage} from "./pages/executions.js";
import {executionPage} from "./pages/execution.js";
import {functionsPage, functionPage} from "./pages/functions.js";
import {endpointsPage, endpointPage} from "./pages/endpoints.js";
import {bucketsPage, bucketPage} from "./pages/buckets.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");
export const config = {write: false, bucket: "scones"};
let current = null;   // the page showing: {stop()} ends its polling

const ROUTES = [
  [/^\/?$/, () => executionsPage],
  [/^\/state-machines$/, () => machinesPage],
  [/^\/state-machines\/([^/]+)$/, () => machinePage],
  [/^\/executions$/, () => executionsPage],
  [/^\/executions\/([^/]+)$/, () => executionPage],
  [/^\/functions$/, () => functionsPage],
  [/^\/functions\/([^/]+)$/, () => functionPage],
  [/^\/endpoints$/, () => endpointsPage],
  [/^\/endpoints\/([^/]+)$/, () => endpointPage],
  [/^\/buckets$/, () => bucketsPage],
  [/^\/buckets\/([^/]+)$/, () => bucketPage],
];

function parse() {
  const raw = location.hash.replace(/^#/, "");
  const [path, query] = raw.split("?", 2);
  return {path: path || "/", params: new URLSearchParams(query || "")};
}

async function show() {
  if (current && current.stop) current.stop();
  current = null;
  const {path, params} = parse();
  const section = path.split("/")[1] || "executions";
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  for (const [pattern, page] of ROUTES) {
    const m = path.match(pattern);
    if (!m) continue;
    const view = h("div", {class: "page"});
    replace(main, view);
    try {
      const args = m.slice(1).map((p) => decodeURIComponent(p));  // URIError on a broken %-escape
      current = await page()(view, args, params, config);
    } catch (err) {
      replace(view, h("h1", {}, "Could not load this page"), message("error", err.message || String(err)));
    }
    return;
  }
  replace(main, h("h1", {}, "Not found"), message("error", "No console page at this address."));
}

async function start() {
  try {
    Object.assign(config, await get("/config"));
  } catch (err) {
    replace(banner, message("error", `The console API does not answer: ${err.message}`));
  }
  if (!config.write) {
    replace(banner, h("p", {class: "note readonly"},
      "Read-only console: starting and stopping executions is off. Start ",
      h("code", {}, "scones up --console-write"), " to turn it on."));
  }
  document.querySelector(".skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    main.focus();
  });
  window.addEventListener("hashchange", show);
  show();
}

start();
