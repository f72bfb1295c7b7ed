// Building the page from data without ever parsing data as markup: every string becomes a text node
// (textContent), attributes go through setAttribute, handlers through addEventListener. No innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) {
      if (typeof value !== "function") throw new Error(`handler ${key} must be a function`);
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h("a", {href: "#/x"}, "text", otherNode) */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, ...children);
}

// -- formatting ---------------------------------------------------------------------------------

export function time(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return "—";
  const d = new Date(epochSeconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** JSON text pretty-printed when it parses, else as it is. */
export function pretty(text) {
  if (text === null || text === undefined) return "";
  if (typeof text !== "string") return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function statusBadge(status) {
  const word = String(status || "").toLowerCase().replace(/_/g, " ");
  return h("span", {class: ["badge", `s-${word.replace(/ /g, "-")}`]}, word);
}

export function pre(text, label) {
  return h("pre", {class: "code", tabindex: "0", "aria-label": label || null}, text);
}

export function table(caption, headers, rows, attrs = {}) {
  return h("table", attrs,
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, rows));
}

export function link(href, text, attrs = {}) {
  return h("a", {href, ...attrs}, text);
}

/** A route for the hash router: path parts are encoded, so any name is safe in a link. */
export function route(...parts) {
  return "#/" + parts.map((p) => encodeURIComponent(p)).join("/");
}

export function objectUrl(bucket, key, download = false) {
  return `/_console/api/buckets/${encodeURIComponent(bucket)}/object?key=${encodeURIComponent(key)}` +
    (download ? "&download=1" : "");
}

/** An <img> of base64 image data the server checked by its magic number. */
export function dataImage(image, alt) {
  const allowed = ["image/png", "image/jpeg", "image/gif", "image/webp"];
  if (!image || !allowed.includes(image.type) || !/^[A-Za-z0-9+/=]*$/.test(image.base64)) return null;
  const img = h("img", {alt: alt || "image", class: "thumb"});
  img.src = `data:${image.type};base64,${image.base64}`;
  return img;
}

export function message(kind, ...text) {
  return h("p", {class: ["note", kind], role: kind === "error" ? "alert" : null}, ...text);
}
