import {get} from "../api.js";
import {h, replace, table, link, route, bytes, time, pre, pretty, message, objectUrl} from "../dom.js";

export async function bucketsPage(view) {
  const data = await get("/buckets");
  replace(view, h("h1", {}, "Buckets"),
    data.buckets.length ? h("ul", {class: "plain"}, data.buckets.map((b) =>
      h("li", {}, link(route("buckets", b.name), b.name)))) : h("p", {}, "The store is empty."));
}

function prefixLink(bucket, prefix, text) {
  return link(`${route("buckets", bucket)}?prefix=${encodeURIComponent(prefix)}`, text);
}

export async function bucketPage(view, [bucket], params) {
  const prefix = params.get("prefix") || "";
  const previewBox = h("section", {class: "preview", "aria-live": "polite", "aria-label": "Preview"});
  const rows = h("tbody");
  const more = h("button", {type: "button"}, "More");
  let after = null;

  async function preview(key) {
    const p = await get(`/buckets/${encodeURIComponent(bucket)}/preview`, {key});
    let body;
    if (p.kind === "image") {
      body = h("img", {alt: key, class: "thumb large"});
      body.src = objectUrl(bucket, key);
    } else if (p.kind === "json" || p.kind === "text") {
      body = pre(p.kind === "json" ? pretty(p.text) : p.text, `Content of ${key}`);
    } else {
      body = h("p", {}, `Binary object, ${bytes(p.size)}.`);
    }
    replace(previewBox, h("h2", {}, key),
      h("p", {class: "meta"}, `${p.contentType} · ${bytes(p.size)}${p.truncated ? " · first 64 KiB shown" : ""} · `,
        link(objectUrl(bucket, key, true), "Download", {download: ""})),
      body);
    previewBox.scrollIntoView({block: "nearest"});
  }

  async function load() {
    const page = await get(`/buckets/${encodeURIComponent(bucket)}/objects`, {prefix, after});
    for (const p of page.prefixes) {
      rows.appendChild(h("tr", {}, h("td", {}, prefixLink(bucket, p, p.slice(prefix.length))), h("td", {}, "folder"),
        h("td", {}), h("td", {})));
    }
    for (const o of page.objects) {
      rows.appendChild(h("tr", {},
        h("td", {}, h("button", {type: "button", class: "linkish", onclick: () => preview(o.key).catch((err) =>
          replace(previewBox, message("error", err.message)))}, o.key.slice(prefix.lastIndexOf("/") + 1))),
        h("td", {class: "num"}, bytes(o.size)), h("td", {}, time(o.modified)),
        h("td", {}, link(objectUrl(bucket, o.key, true), "Download", {download: "", "aria-label": `Download ${o.key}`}))));
    }
    after = page.next;
    more.hidden = !after;
  }
  more.addEventListener("click", () => load().catch((err) =>
    replace(previewBox, message("error", `Could not list more: ${err.message}`))));

  const crumbs = [link(route("buckets"), "Buckets"), " / ", prefixLink(bucket, "", bucket)];
  let acc = "";
  for (const part of prefix.split("/").slice(0, -1)) {
    acc += part + "/";
    crumbs.push(" / ", prefixLink(bucket, acc, part));
  }
  replace(view, h("h1", {}, `Bucket ${bucket}`), h("nav", {class: "crumbs", "aria-label": "Folder"}, crumbs),
    h("div", {class: "split"},
      h("div", {}, table(null, ["Name", "Size", "Modified", ""], [], {class: "objects"}), more),
      previewBox));
  view.querySelector("table.objects").replaceChild(rows, view.querySelector("table.objects tbody"));
  replace(previewBox, h("p", {class: "meta"}, "Choose an object to preview it."));
  await load();
  if (!rows.children.length) rows.appendChild(h("tr", {}, h("td", {colspan: "4"}, "Nothing here.")));
}
