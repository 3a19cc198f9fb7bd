// The journal view: calls as they arrive (polling GET journal?after=SEQ), newest first, filtered by
// the admin API itself; a row opens the whole entry (GET journal/SEQ).

import { admin, query } from "./api.js";
import { $, h, json, replace, shortTime } from "./dom.js";

const PAGE = 200;
const MAX_ROWS = 500;
const OPEN_FOR_MS = 120_000; // how long a call still being answered (a stream, a session) is re-read

export class JournalView {
  constructor(app) {
    this.app = app;
    this.body = $("#journal-table tbody");
    this.filters = $("#journal-filters");
    this.detail = $("#journal-detail");
    this.rows = new Map(); // seq -> <tr>
    this.open = new Map(); // seq -> when first seen unfinished
    this.last = 0;
    this.selected = null;
    this.filters.addEventListener("input", () => {
      clearTimeout(this.typing); // one request when typing stops, not one per key
      this.typing = setTimeout(() => this.reload(), 250);
    });
    this.filters.addEventListener("submit", (event) => event.preventDefault());
    $("#journal-clear").addEventListener("click", () => this.clear());
    this.body.addEventListener("keydown", (event) => this.onKey(event));
    this.body.addEventListener("click", (event) => {
      const row = event.target.closest("tr");
      if (row) this.select(row);
    });
    this.detail.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
  }

  get live() {
    return $("#journal-live").checked;
  }

  criteria() {
    const form = new FormData(this.filters);
    return {
      family: form.get("family"),
      contract: form.get("contract").trim(),
      status: form.get("status").trim(),
      kind: form.get("kind"),
      task: form.get("task").trim(),
      broken: form.get("broken") ? "true" : "",
      q: form.get("q").trim(),
    };
  }

  async reload() {
    this.loading = (this.loading || 0) + 1;
    const ticket = this.loading;
    let page;
    try {
      page = await admin("journal" + query({ brief: 1, limit: PAGE, ...this.criteria() }));
    } catch (error) {
      this.app.report(error);
      return;
    }
    if (ticket !== this.loading) return; // a newer filter won
    this.rows.clear();
    this.open.clear();
    this.body.replaceChildren();
    this.last = 0;
    this.add(page.calls);
    this.count(page.total);
  }

  async refresh() {
    if (!this.live || this.loading === undefined) return;
    const oldestOpen = Math.min(...this.open.keys());
    const after = Math.min(this.last, oldestOpen - 1);
    const page = await admin("journal" + query({ brief: 1, limit: PAGE, after, ...this.criteria() }));
    if (page.total < this.rows.size) return this.reload(); // cleared or reset since
    this.add(page.calls);
    this.count(page.total);
    if (page.next !== null) return this.refresh();
  }

  count(total) {
    $("#journal-count").textContent = `${total} call${total === 1 ? "" : "s"}${total > this.rows.size ? `, newest ${this.rows.size} shown` : ""}`;
    $("#journal-empty").hidden = total > 0;
  }

  // ``calls`` come oldest first; each goes on top (or replaces the row it updates).
  add(calls) {
    for (const call of calls) {
      const row = this.row(call);
      const old = this.rows.get(call.seq);
      if (old) {
        const focused = old === document.activeElement;
        row.tabIndex = old.tabIndex;
        old.replaceWith(row);
        if (this.selected === old) this.selected = row;
        if (focused) row.focus();
      } else {
        this.body.prepend(row);
      }
      this.rows.set(call.seq, row);
      this.last = Math.max(this.last, call.seq);
      const unfinished = call.kind === "request" && call.duration_ms === 0;
      if (!unfinished) this.open.delete(call.seq);
      else if (!this.open.has(call.seq)) this.open.set(call.seq, Date.now());
    }
    for (const [seq, since] of this.open) if (Date.now() - since > OPEN_FOR_MS) this.open.delete(seq);
    while (this.rows.size > MAX_ROWS) {
      const oldest = Math.min(...this.rows.keys());
      this.rows.get(oldest).remove();
      this.rows.delete(oldest);
    }
    this.focusable();
  }

  row(call) {
    const unfinished = call.kind === "request" && call.duration_ms === 0;
    const row = h(
      "tr",
      { tabindex: "-1", dataset: { seq: String(call.seq) }, class: call.violation_count ? "broken" : "" },
      h("td", { class: "col-seq" }, call.seq),
      h("td", { class: "col-time" }, shortTime(call.time)),
      h("td", {}, call.kind === "callback" ? h("span", { class: "tag" }, "callback") : call.method),
      h("td", { class: "path" }, h("code", {}, call.path), h("small", {}, [call.contract, call.outcome].filter(Boolean).join(" · "))),
      h("td", {}, statusBadge(call.status)),
      h("td", { class: "col-ms num" }, unfinished ? "…" : call.duration_ms.toFixed(1)),
      h("td", {}, verdict(call, this.app.strict)),
    );
    if (this.selected && this.selected.dataset.seq === String(call.seq)) row.setAttribute("aria-selected", "true");
    return row;
  }

  // One row is in the tab order (the selected one, else the newest); arrows move between rows.
  focusable() {
    const current = this.body.querySelector('tr[tabindex="0"]');
    const wanted = this.selected && this.selected.isConnected ? this.selected : current && current.isConnected ? current : this.body.firstElementChild;
    if (current && current !== wanted) current.tabIndex = -1;
    if (wanted) wanted.tabIndex = 0;
  }

  onKey(event) {
    const row = event.target.closest("tr");
    if (!row) return;
    const moves = { ArrowDown: row.nextElementSibling, ArrowUp: row.previousElementSibling, Home: this.body.firstElementChild, End: this.body.lastElementChild };
    if (event.key in moves) {
      event.preventDefault();
      const next = moves[event.key];
      if (next) {
        row.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      }
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.select(row);
    }
  }

  async select(row) {
    if (this.selected) this.selected.removeAttribute("aria-selected");
    this.selected = row;
    row.setAttribute("aria-selected", "true");
    this.focusable();
    let entry;
    try {
      entry = await admin(`journal/${row.dataset.seq}`);
    } catch (error) {
      this.app.report(error);
      return;
    }
    replace(this.detail, ...details(entry, this.app));
    this.detail.hidden = false;
    $("#detail-title", this.detail).focus();
  }

  close() {
    this.detail.hidden = true;
    if (this.selected) {
      this.selected.removeAttribute("aria-selected");
      this.selected.focus();
    }
  }

  async clear() {
    try {
      await admin("journal", { method: "DELETE" });
      this.detail.hidden = true;
      await this.reload();
      this.app.say("The journal is empty.");
    } catch (error) {
      this.app.report(error);
    }
  }

  shown() {
    if (this.loading === undefined) this.reload();
  }
}

function statusBadge(status) {
  const family = status >= 500 ? "s5" : status >= 400 ? "s4" : status >= 300 ? "s3" : status >= 100 ? "s2" : "s0";
  return h("span", { class: `status ${family}` }, status === 0 ? "—" : status);
}

// The verdict in words and a symbol, never in colour alone.
function verdict(call, strict) {
  if (call.violation_count) {
    const label = `✗ breaks contract${call.violation_count > 1 ? ` (${call.violation_count})` : ""}`;
    return h("span", { class: "verdict broken", title: call.violations.join("\n") }, label);
  }
  if (call.kind === "callback" || !call.contract) return h("span", { class: "verdict none" }, call.kind === "callback" ? "– delivery" : "– no contract");
  if (!strict) return h("span", { class: "verdict none", title: "start the mock with --strict to judge answers" }, "– not checked");
  return h("span", { class: "verdict ok" }, "✓ conforms");
}

function details(entry, app) {
  const close = h("button", { type: "button", class: "quiet close", onclick: () => app.journal.close() }, "Close");
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "status"),
    h("dd", {}, statusBadge(entry.status)),
    h("dt", {}, "contract"),
    h("dd", {}, entry.contract ? h("a", { href: `#contracts/${entry.contract}` }, entry.contract) : "none"),
    h("dt", {}, "time"),
    h("dd", {}, new Date(entry.time * 1000).toISOString()),
    h("dt", {}, "duration"),
    h("dd", {}, `${entry.duration_ms.toFixed(1)} ms`),
    entry.task ? [h("dt", {}, "task"), h("dd", {}, h("a", { href: `#tasks/${entry.task}` }, entry.task))] : null,
  );
  const parts = [
    h("header", {}, h("h3", { id: "detail-title", tabindex: "-1" }, `#${entry.seq} ${entry.kind === "callback" ? "callback " : ""}${entry.method} ${entry.path}`), close),
    facts,
    violations(entry, app.strict),
  ];
  if (entry.query && Object.keys(entry.query).length) parts.push(h("h4", {}, "Query"), json(entry.query));
  parts.push(h("h4", {}, entry.kind === "callback" ? "Delivered body" : "Request body"), entry.body === null ? h("p", {}, "(none)") : json(entry.body));
  parts.push(h("h4", {}, entry.kind === "callback" ? "Outcome" : "Answer"), entry.response === null ? h("p", {}, "(none)") : json(entry.response));
  if (entry.events) parts.push(timeline(`Events (${count(entry.events)})`, entry.events, "event"));
  if (entry.frames) parts.push(timeline(`WebSocket frames (${count(entry.frames)})`, entry.frames, "from"));
  return parts;
}

function violations(entry, strict) {
  if (entry.violations.length) {
    return h(
      "section",
      { class: "violations", "aria-label": "Contract violations" },
      h("p", { class: "verdict broken" }, `✗ The answer breaks ${entry.contract || "its contract"}:`),
      h("ul", {}, entry.violations.map((v) => h("li", {}, v))),
    );
  }
  if (strict && entry.contract && entry.kind !== "callback") return h("p", { class: "verdict ok" }, `✓ The answer conforms to ${entry.contract}.`);
  return null;
}

function count(items) {
  const omitted = items.find((item) => "omitted" in item);
  return omitted ? `${items.length - 1} shown, ${omitted.omitted} more` : items.length;
}

function timeline(title, items, label) {
  const rows = items.map((item, index) =>
    "omitted" in item
      ? h("tr", {}, h("td", {}, "…"), h("td", { class: "num" }, item.at_ms.toFixed(1)), h("td", { colspan: "2" }, `${item.omitted} more not kept`))
      : h("tr", {}, h("td", {}, index), h("td", { class: "num" }, item.at_ms.toFixed(1)), h("td", {}, item[label] || ""), h("td", {}, "data" in item ? json(item.data, { compact: true }) : `(${item.size} bytes, past the entry's budget)`)),
  );
  return h(
    "section",
    { class: "timeline-table" },
    h("h4", {}, title),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "at ms"), h("th", {}, label), h("th", {}, "data"))), h("tbody", {}, rows)),
  );
}
