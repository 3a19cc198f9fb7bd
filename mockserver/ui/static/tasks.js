// The tasks view: every async task with its status word, progress, timeline and results, refreshed
// with the clock (GET tasks), and buttons to finish one now (POST tasks/ID/complete or /fail).

import { admin, query } from "./api.js";
import { $, h, replace, safeUrl, shortTime } from "./dom.js";

const PAGE = 200;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const MAX_PREVIEWS = 8; // files shown; links to other servers are listed besides
const KINDS = [
  ["image", /\.(png|jpe?g|webp|gif)$/i, /image|cover|thumb|still/i],
  ["audio", /\.(mp3|wav|opus|aac|flac|m4a)$/i, /audio|song/i],
  ["video", /\.(mp4|webm|mov)$/i, /video/i],
  ["deck", /\.pptx$/i, null],
  ["file", /\.(pdf|docx?|xlsx?|txt|zip)$/i, null],
];

export class TasksView {
  constructor(app) {
    this.app = app;
    this.list = $("#task-list");
    this.cards = new Map(); // id -> card
    $("#task-filters").addEventListener("input", () => this.refresh().catch((error) => app.report(error)));
    $("#task-filters").addEventListener("submit", (event) => event.preventDefault());
  }

  async refresh() {
    const family = new FormData($("#task-filters")).get("family");
    let page = await admin("tasks" + query({ family, limit: PAGE }));
    if (page.total > PAGE) page = await admin("tasks" + query({ family, limit: PAGE, offset: page.total - PAGE }));
    const tasks = page.tasks.reverse(); // newest first
    const seen = new Set();
    let previous = null;
    for (const task of tasks) {
      seen.add(task.id);
      let card = this.cards.get(task.id);
      if (!card) {
        card = new TaskCard(this.app);
        this.cards.set(task.id, card);
      }
      card.update(task);
      // Keep the order without moving a card that is already in place (moving one loses focus).
      const wanted = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (wanted !== card.element) this.list.insertBefore(card.element, wanted);
      previous = card.element;
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.element.remove();
        this.cards.delete(id);
      }
    }
    $("#tasks-count").textContent = `${page.total} task${page.total === 1 ? "" : "s"}${page.total > PAGE ? `, newest ${PAGE} shown` : ""}`;
    $("#tasks-empty").hidden = page.total > 0;
    this.focusAsked();
  }

  shown(id) {
    if (id) this.focusOn = id;
  }

  focusAsked() {
    const card = this.focusOn && this.cards.get(this.focusOn);
    if (card) {
      card.element.scrollIntoView({ block: "center" });
      card.heading.focus();
      this.focusOn = null;
    }
  }
}

class TaskCard {
  constructor(app) {
    this.app = app;
    this.heading = h("h3", { tabindex: "-1" });
    this.state = h("span", { class: "state" });
    this.bar = h("progress", { max: "100", value: "0" });
    this.percent = h("span", { class: "percent" });
    this.timeline = h("ol", { class: "steps" });
    this.previews = h("div", { class: "previews" });
    this.meta = h("p", { class: "meta" });
    this.reason = h("p", { class: "reason" });
    this.reasonInput = h("input", { placeholder: "failure reason", "aria-label": "failure reason" });
    this.complete = h("button", { type: "button", onclick: () => this.finish("complete") }, "Complete");
    this.fail = h("button", { type: "button", class: "danger", onclick: () => this.finish("fail") }, "Fail");
    this.element = h(
      "article",
      { class: "task" },
      this.heading,
      h("p", { class: "progress-line" }, this.state, this.bar, this.percent),
      this.timeline,
      this.previews,
      this.reason,
      this.meta,
      h("div", { class: "actions" }, this.complete, this.reasonInput, this.fail),
    );
  }

  update(task) {
    this.task = task;
    this.element.dataset.id = task.id;
    this.element.dataset.status = task.status;
    replace(this.heading, `${task.family} · ${task.kind} `, h("code", {}, task.id));
    const symbol = task.failed ? "✗" : task.terminal ? "✓" : "◔";
    this.state.className = `state ${task.failed ? "failed" : task.terminal ? "done" : "running"}`;
    this.state.textContent = `${symbol} ${task.status}`;
    this.bar.value = task.progress;
    this.bar.setAttribute("aria-label", `progress of ${task.id}`);
    this.bar.setAttribute("aria-valuetext", `${task.progress} %`);
    this.percent.textContent = `${task.progress} %`;
    replace(this.timeline, steps(task, this.app.clockMode));
    // Results of finished tasks only: a running Midjourney task's picture changes URL on every
    // look, and its image proxy is an API route, so each fetch would be a journal entry.
    this.showPreviews(task.terminal ? media(task.answer) : []);
    this.reason.textContent = task.fail_reason && task.failed ? `Reason: ${task.fail_reason}` : "";
    const callbacks = task.callback_url ? [" · callbacks to ", h("code", {}, task.callback_url), " (", h("a", { href: `#journal?task=${encodeURIComponent(task.id)}` }, "deliveries"), ")"] : [];
    replace(this.meta, `created ${shortTime(task.created_at)} · polled ${task.polls}×`, task.parent_id ? ` · from ${task.parent_id}` : "", callbacks);
    this.complete.disabled = this.fail.disabled = this.reasonInput.disabled = task.terminal;
    this.complete.setAttribute("aria-label", `Complete ${task.id}`);
    this.fail.setAttribute("aria-label", `Fail ${task.id}`);
  }

  // Media elements are kept while their URL stays the same, so a playing video is not restarted.
  showPreviews(found) {
    const key = found.map((m) => m.url).join(" ");
    if (key === this.previewKey) return;
    this.previewKey = key;
    replace(this.previews, found.map((item, index) => preview(item, index, this.task)));
  }

  async finish(verb) {
    const body = verb === "fail" && this.reasonInput.value.trim() ? { reason: this.reasonInput.value.trim() } : {};
    try {
      await admin(`tasks/${encodeURIComponent(this.task.id)}/${verb}`, { method: "POST", body });
      this.app.say(`Task ${this.task.id} ${verb === "fail" ? "failed" : "completed"}.`);
      await this.app.tasks.refresh();
    } catch (error) {
      this.app.report(error);
    }
  }
}

function steps(task, clockMode) {
  const current = task.steps.reduce((at, step, index) => (step.entered_at !== null ? index : at), 0);
  return task.steps.map((step, index) => {
    let when;
    if (step.entered_at !== null) when = `+${(step.entered_at - task.created_at).toFixed(1)} s`;
    else if (clockMode === "step") when = "on a later poll";
    else when = `planned +${step.at.toFixed(1)} s`;
    const place = index === current ? "current" : index < current ? "reached" : "planned";
    return h("li", { class: place, "aria-current": index === current ? "step" : null }, h("span", {}, step.status), " ", h("small", {}, when, index === current ? " ◀ now" : ""));
  });
}

// Result URLs in the task's own answer: every http(s) string, typed by its extension or its field name.
export function media(answer) {
  const found = [];
  const seen = new Set();
  (function walk(value, key) {
    if (typeof value === "string") {
      const url = /^https?:\/\//.test(value) ? safeUrl(value) : null;
      if (!url || seen.has(url)) return;
      const path = new URL(url).pathname;
      const kind = KINDS.find(([, extension, field]) => extension.test(path) || (field && field.test(key)));
      if (kind) {
        seen.add(url);
        found.push({ url: served(url), kind: served(url) ? kind[0] : "elsewhere", field: key, link: url });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item) => walk(item, key));
    } else if (value && typeof value === "object") {
      Object.entries(value).forEach(([name, item]) => walk(item, name));
    }
  })(answer, "");
  const elsewhere = found.filter((item) => item.kind === "elsewhere");
  return [...found.filter((item) => item.kind !== "elsewhere").slice(0, MAX_PREVIEWS), ...elsewhere];
}

// The mock's own URL for ``url`` (on the page's origin), or null for one on another server: the
// page loads nothing from elsewhere. A client that used another loopback name reached this server.
function served(url) {
  const found = new URL(url);
  if (found.origin === location.origin) return found.href;
  if (found.port === location.port && LOOPBACK.has(found.hostname) && LOOPBACK.has(location.hostname)) return location.origin + found.pathname + found.search;
  return null;
}

function preview(item, index, task) {
  if (item.kind === "elsewhere") return h("p", { class: "elsewhere" }, `${item.field}: `, h("a", { href: item.link, rel: "noreferrer" }, item.link), " (not loaded: another server)");
  const label = `${item.field || "result"} of ${task.id}`;
  if (item.kind === "image") return h("figure", {}, h("img", { src: item.url, alt: label, loading: "lazy" }), h("figcaption", {}, item.field));
  if (item.kind === "audio") return h("figure", {}, h("audio", { src: item.url, controls: true, preload: "none", "aria-label": label }), h("figcaption", {}, item.field));
  if (item.kind === "video") return h("figure", {}, h("video", { src: item.url, controls: true, preload: "metadata", "aria-label": label }), h("figcaption", {}, item.field));
  const name = item.kind === "deck" ? "Download the .pptx" : `Download ${new URL(item.url).pathname.split("/").pop()}`;
  return h("p", { class: "download" }, h("a", { href: item.url, download: "", rel: "noreferrer" }, `⬇ ${name}`));
}
