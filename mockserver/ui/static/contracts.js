// The contracts view: families and contracts (GET contracts), one contract's documented examples
// (GET contracts/ID; schemas stay on the docs page), and "try it": the example sent to the mock by
// this page, as any client would send it, with the answer shown as it arrives.

import { adminHeaders, admin } from "./api.js";
import { $, h, json, replace } from "./dom.js";

const KEY = "gptnb-mock.api-key";

export class ContractsView {
  constructor(app) {
    this.app = app;
    this.family = "";
    $("#contract-search").addEventListener("input", () => this.list());
  }

  shown(id) {
    if (!this.built) this.build();
    if (id && id !== this.current) this.open(id);
  }

  build() {
    this.built = true;
    const families = new Map();
    for (const c of this.app.contracts) families.set(c.family, (families.get(c.family) || 0) + 1);
    const buttons = [["", this.app.contracts.length], ...[...families].sort()].map(([family, n]) =>
      h("button", { type: "button", "aria-pressed": String(family === this.family), dataset: { family }, onclick: () => this.pick(family) }, family || "all", h("small", {}, ` ${n}`)),
    );
    replace($("#family-list"), buttons);
    $("#contracts-count").textContent = `${this.app.contracts.length} in ${families.size} families`;
    this.list();
  }

  pick(family) {
    this.family = family;
    for (const button of $("#family-list").children) button.setAttribute("aria-pressed", String(button.dataset.family === family));
    this.list();
  }

  list() {
    const words = $("#contract-search").value.trim().toLowerCase();
    const shown = this.app.contracts.filter(
      (c) => (!this.family || c.family === this.family) && (!words || `${c.id} ${c.path} ${c.title}`.toLowerCase().includes(words)),
    );
    replace(
      $("#contract-list"),
      shown.map((c) =>
        h("li", {}, h("a", { href: `#contracts/${c.id}`, "aria-current": c.id === this.current ? "true" : null }, h("span", { class: "method" }, c.method), " ", h("code", {}, c.path), h("br"), h("small", {}, c.id, " · ", c.title))),
      ),
    );
    $('#contract-list [aria-current="true"]')?.scrollIntoView({ block: "nearest" });
  }

  async open(id) {
    this.current = id;
    let contract;
    try {
      contract = await admin(`contracts/${encodeURIComponent(id)}`);
    } catch (error) {
      this.app.report(error);
      return;
    }
    const detail = $("#contract-detail");
    replace(
      detail,
      h("h3", { id: "contract-title", tabindex: "-1" }, h("span", { class: "method" }, contract.method), " ", h("code", {}, contract.path)),
      h("p", {}, h("strong", {}, contract.title), " · ", h("code", {}, contract.id)),
      h("p", { class: "summary" }, contract.summary),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "kind"),
        h("dd", {}, contract.kind),
        h("dt", {}, "cost"),
        h("dd", {}, contract.cost),
        h("dt", {}, "auth"),
        h("dd", {}, contract.auth.carriers.map((c) => `${c.in} ${c.name}`).join(" or ") || "none", contract.auth.required ? "" : " (optional)"),
        contract.aliases.length ? [h("dt", {}, "aliases"), h("dd", {}, contract.aliases.join(", "))] : null,
        contract.variant_of ? [h("dt", {}, "variant of"), h("dd", {}, contract.variant_of)] : null,
      ),
      h("p", {}, h("a", { href: contract.docs }, "Request and response schemas on the docs page ↗")),
      h("h4", {}, `Examples (${contract.examples.length})`),
      contract.examples.map((example) => tryIt(contract, example, this.app)),
    );
    detail.hidden = false;
    this.list();
    $("#contract-title").focus();
  }
}

function tryIt(contract, example, app) {
  const request = example.request;
  const answer = h("div", { class: "answer", "aria-live": "polite" });
  const editable = "body" in request;
  const body = editable ? h("textarea", { rows: "8", spellcheck: "false", "aria-label": `body of example ${example.name}` }, JSON.stringify(request.body, null, 2)) : null;
  const key = h("input", { value: sessionStorage.getItem(KEY) || "sk-inspector", "aria-label": "API key", size: "16" });
  const send = h("button", { type: "button" }, `Send “${example.name}”`);
  send.addEventListener("click", async () => {
    sessionStorage.setItem(KEY, key.value);
    send.disabled = true;
    try {
      await sendExample(contract, request, body ? body.value : null, key.value, answer);
    } catch (error) {
      replace(answer, h("p", { class: "verdict broken" }, `✗ ${error.message}`));
    } finally {
      send.disabled = false;
    }
    answer.scrollIntoView({ block: "nearest" });
    app.say(`Sent example ${example.name}; it is in the journal.`);
  });
  const sending = contract.kind === "websocket"
    ? h("p", {}, "A WebSocket endpoint: try it from a client.")
    : h("p", { class: "inline" }, h("label", {}, "API key ", key), " ", send);
  return h(
    "section",
    { class: "example" },
    h("h5", {}, example.name, h("small", {}, ` → ${example.status}`)),
    example.summary ? h("p", {}, example.summary) : null,
    h("p", {}, h("code", {}, `${request.method} ${request.path}${request.query ? "?" + new URLSearchParams(request.query) : ""}`)),
    body,
    request.form ? json(request.form) : null,
    request.files ? h("p", {}, "Uploads: ", Object.entries(request.files).map(([name, f]) => `${name} = ${f.filename}`).join(", ")) : null,
    sending,
    answer,
  );
}

async function sendExample(contract, request, bodyText, key, answer) {
  const url = new URL(request.path.replace(/^\//, "../"), location.href);
  for (const [name, value] of Object.entries(request.query || {})) url.searchParams.append(name, value);
  const headers = { ...(request.headers || {}) };
  const carrier = contract.auth.carriers[0];
  if (carrier && key) {
    if (carrier.in === "query") url.searchParams.set(carrier.name, key);
    else if (carrier.in === "header" && !Object.keys(headers).some((n) => n.toLowerCase() === carrier.name.toLowerCase())) headers[carrier.name] = carrier.prefix + key;
  }
  let body;
  if (bodyText !== null) {
    body = bodyText;
    headers["Content-Type"] = "application/json";
  } else if (request.form || request.files) {
    body = await formBody(contract, request);
  }
  replace(answer, h("p", {}, "…"));
  const response = await fetch(url, { method: request.method, headers, body, cache: "no-store" });
  const type = (response.headers.get("content-type") || "").split(";")[0];
  const head = h("p", {}, h("strong", {}, `${response.status} ${response.statusText}`), " ", h("code", {}, type || "(no content type)"));
  if (type === "text/event-stream") {
    const text = h("pre", { class: "json" });
    replace(answer, head, text);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (let part = await reader.read(); !part.done; part = await reader.read()) text.textContent += part.value;
  } else if (type.endsWith("json")) {
    replace(answer, head, json(await response.json()));
  } else if (type.startsWith("text/")) {
    replace(answer, head, json(await response.text()));
  } else {
    const blob = URL.createObjectURL(await response.blob());
    const shown = type.startsWith("image/") ? h("img", { src: blob, alt: "the answer" })
      : type.startsWith("audio/") ? h("audio", { src: blob, controls: true })
      : type.startsWith("video/") ? h("video", { src: blob, controls: true })
      : h("a", { href: blob, download: "answer" }, "⬇ Download the answer");
    replace(answer, head, shown);
  }
}

// A form example as the contract takes it: multipart with the documented upload files, else urlencoded.
async function formBody(contract, request) {
  const multipart = request.files || !contract.content_types.includes("application/x-www-form-urlencoded");
  const form = multipart ? new FormData() : new URLSearchParams();
  for (const [name, value] of Object.entries(request.form || {})) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, typeof item === "object" ? JSON.stringify(item) : String(item));
  }
  for (const [name, upload] of Object.entries(request.files || {})) {
    const response = await fetch(`fixtures/${upload.fixture}`, { headers: adminHeaders() });
    if (!response.ok) throw new Error(`cannot load the example's upload ${upload.fixture}: ${response.status}`);
    form.append(name, new File([await response.blob()], upload.filename, { type: upload.content_type }));
  }
  return form;
}
