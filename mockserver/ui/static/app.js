// The inspector page: four views over the admin API, picked by the URL's hash (#journal, #tasks,
// #steering, #contracts/ID), and one loop that refreshes the clock and the view on show every second.
// The page shows one namespace: the one its path names (/__mock/ns/NAME/__mock/ui), else the default.

import { admin, AdminError, session } from "./api.js";
import { $, clockTime, h, replace } from "./dom.js";
import { ContractsView } from "./contracts.js";
import { JournalView } from "./journal.js";
import { SteeringView } from "./steering.js";
import { TasksView } from "./tasks.js";

const EVERY_MS = 1000;
const VIEWS = ["journal", "tasks", "steering", "contracts"];
const DEFAULT_NAMESPACE = "default";
// [, where the mock is mounted, the namespace in the path (if any)]
const [, ROOT = "", IN_PATH = ""] = location.pathname.match(/^(.*?)(?:\/__mock\/ns\/([^/]+))?\/__mock\/ui$/) || [];
const NAMESPACE = IN_PATH ? decodeURIComponent(IN_PATH) : DEFAULT_NAMESPACE;

class Inspector {
  constructor() {
    this.contracts = [];
    this.strict = false;
    this.clock = null;
    this.journal = new JournalView(this);
    this.tasks = new TasksView(this);
    this.steering = new SteeringView(this);
    this.catalogue = new ContractsView(this);
    this.views = { journal: this.journal, tasks: this.tasks, steering: this.steering, contracts: this.catalogue };
    session.onUnauthorized = () => this.askForToken();
    $("#token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      session.token = $("#token").value.trim();
      $("#token").value = "";
      $("#token-form").hidden = true;
      this.start();
    });
    $("#forget-token").addEventListener("click", () => {
      session.token = "";
      location.reload();
    });
    window.addEventListener("hashchange", () => this.route());
    const picker = $("#namespace");
    picker.addEventListener("focus", () => this.listNamespaces());
    picker.addEventListener("change", () => {
      const name = picker.value;
      const prefix = name === DEFAULT_NAMESPACE ? "" : `/__mock/ns/${encodeURIComponent(name)}`;
      location.assign(`${ROOT}${prefix}/__mock/ui${location.hash}`);
    });
  }

  get clockMode() {
    return this.clock ? this.clock.mode : "";
  }

  async start() {
    try {
      const health = await admin("health");
      this.strict = health.strict;
      document.title = `gptnb-mock ${health.version} inspector`;
      this.contracts = (await admin("contracts")).contracts;
    } catch (error) {
      this.report(error);
      return;
    }
    $("#forget-token").hidden = !session.token;
    this.fillChoices();
    await this.listNamespaces();
    this.started = true;
    this.route();
    this.loop();
  }

  fillChoices() {
    const families = [...new Set(this.contracts.map((c) => c.family))].sort();
    for (const select of document.querySelectorAll('select[name="family"]')) {
      select.append(...families.map((family) => h("option", { value: family }, family)));
    }
    replace($("#contract-ids"), this.contracts.map((c) => h("option", { value: c.id })));
  }

  // The namespaces in use, to switch to another (a page of its own): shown once there is more than one.
  async listNamespaces() {
    let names;
    try {
      names = (await admin("namespaces")).namespaces.map((n) => n.name);
    } catch (error) {
      this.report(error);
      return;
    }
    const others = names.filter((name) => name !== DEFAULT_NAMESPACE && name !== NAMESPACE).sort();
    const all = [DEFAULT_NAMESPACE, ...(NAMESPACE === DEFAULT_NAMESPACE ? [] : [NAMESPACE]), ...others];
    const picker = $("#namespace");
    if (picker.options.length !== all.length || [...picker.options].some((option, i) => option.value !== all[i])) {
      replace(picker, all.map((name) => h("option", { value: name }, name)));
      picker.value = NAMESPACE;
    }
    picker.closest(".namespace").hidden = all.length < 2;
  }

  // #view, or #view/ID (a contract, a task), or #journal?task=ID (the journal filtered).
  route() {
    if (!this.started) return;
    const [, name = "journal", id = "", filter = ""] = location.hash.match(/^#?([a-z]*)\/?([^?]*)\??(.*)$/) || [];
    const view = VIEWS.includes(name) ? name : "journal";
    this.active = view;
    for (const other of VIEWS) {
      $(`#${other}`).hidden = other !== view;
      const link = $(`#nav-${other}`);
      if (other === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (view === "journal" && filter) {
      const wanted = new URLSearchParams(filter);
      for (const field of $("#journal-filters").elements) if (field.name && wanted.has(field.name)) field.value = wanted.get(field.name);
      this.journal.reload();
    }
    this.views[view].shown?.(decodeURIComponent(id));
    this.refresh();
  }

  async loop() {
    if (!document.hidden) await this.refresh();
    setTimeout(() => this.loop(), EVERY_MS);
  }

  async refresh() {
    try {
      this.clock = await admin("clock");
      $("#clock-now").textContent = `${this.clock.mode} · ${clockTime(this.clock.now)}`;
      const view = this.views[this.active];
      if (view.refresh) await view.refresh();
    } catch (error) {
      this.report(error);
    }
  }

  askForToken() {
    $("#token-form").hidden = false;
    $("#token").focus();
  }

  say(message) {
    const status = $("#status");
    status.className = "";
    status.textContent = message;
  }

  report(error) {
    const status = $("#status");
    status.className = "error";
    const where = error instanceof AdminError ? ` (HTTP ${error.status})` : "";
    status.textContent = `✗ ${error.message}${where}`;
  }
}

new Inspector().start();
