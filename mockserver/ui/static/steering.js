// The steering view: rules (GET/POST/DELETE rules), the clock (GET/POST clock) and reset (POST reset).

import { admin } from "./api.js";
import { $, clockTime, formValues, h, replace } from "./dom.js";

const NUMBERS = new Set(["status", "delay_ms", "times"]);
const CLOCK_HINTS = {
  real: "Real time: tasks move on their own. Advancing jumps ahead.",
  manual: "Manual: nothing moves until you advance or set the clock.",
  step: "Step: every poll of a task moves it one state on; the clock keeps wall time, plus what you advance.",
};

export class SteeringView {
  constructor(app) {
    this.app = app;
    $("#rule-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.addRule(event.target);
    });
    $("#rules-clear").addEventListener("click", () => this.act(() => admin("rules", { method: "DELETE" }), "Every rule is deleted."));
    $("#clock-advance").addEventListener("submit", (event) => {
      event.preventDefault();
      this.advance(Number(event.target.seconds.value));
    });
    for (const button of document.querySelectorAll("[data-advance]")) button.addEventListener("click", () => this.advance(Number(button.dataset.advance)));
    $("#clock-set").addEventListener("input", (event) => (event.target.dataset.edited = "yes"));
    $("#clock-set").addEventListener("submit", (event) => {
      event.preventDefault();
      delete event.target.when.dataset.edited;
      const epoch = Date.parse(event.target.when.value + "Z") / 1000;
      this.act(() => admin("clock", { method: "POST", body: { set: epoch } }), `The clock is set to ${clockTime(epoch)}.`);
    });
    $("#reset").addEventListener("click", (event) => this.reset(event.target));
  }

  async refresh() {
    const { rules } = await admin("rules");
    const seen = JSON.stringify(rules);
    if (seen !== this.seen) { // rebuilt only when they changed, so a focused Delete button keeps its focus
      this.seen = seen;
      replace($("#rules-table tbody"), rules.map((rule) => this.ruleRow(rule)));
      $("#rules-empty").hidden = rules.length > 0;
      $("#rules-table").hidden = rules.length === 0;
    }
    const clock = this.app.clock;
    if (clock) {
      $("#clock-mode").textContent = clock.mode + (clock.speed !== 1 ? ` ×${clock.speed}` : "");
      $("#clock-iso").textContent = clockTime(clock.now);
      $("#clock-epoch").textContent = clock.now.toFixed(3);
      $("#clock-hint").textContent = CLOCK_HINTS[clock.mode] || "";
      const set = $("#clock-set input"); // follows the clock until someone edits it
      if (!set.dataset.edited) set.value = new Date(Math.ceil(clock.now) * 1000).toISOString().slice(0, 19);
    }
  }

  ruleRow(rule) {
    const remove = h("button", { type: "button", class: "quiet", "aria-label": `Delete rule ${rule.id}` }, "Delete");
    remove.addEventListener("click", () => this.act(() => admin(`rules/${rule.id}`, { method: "DELETE" }), `Rule ${rule.id} is deleted.`));
    const target = rule.path ? [h("code", {}, rule.contract), " on ", h("code", {}, rule.path)] : h("code", {}, rule.contract);
    return h("tr", { dataset: { id: String(rule.id) } }, h("td", {}, rule.id), h("td", {}, target), h("td", {}, describe(rule)), h("td", {}, rule.times ?? "∞"), h("td", {}, rule.hits), h("td", {}, remove));
  }

  async addRule(form) {
    const rule = {};
    for (const [name, value] of Object.entries(formValues(form))) {
      if (value !== "") rule[name] = NUMBERS.has(name) ? Number(value) : value;
    }
    try {
      const added = await admin("rules", { method: "POST", body: rule });
      form.reset();
      this.app.say(`Rule ${added.id} added: ${describe(added)}.`);
      await this.refresh();
    } catch (error) {
      this.app.report(error);
    }
  }

  advance(seconds) {
    return this.act(() => admin("clock", { method: "POST", body: { advance: seconds } }), `The clock moved ${seconds} s on.`);
  }

  // Reset asks twice: the first press arms the button for a few seconds.
  reset(button) {
    if (!button.dataset.armed) {
      button.dataset.armed = "yes";
      button.textContent = "Really reset? Press again";
      setTimeout(() => {
        delete button.dataset.armed;
        button.textContent = "Reset the mock";
      }, 5000);
      return;
    }
    delete button.dataset.armed;
    button.textContent = "Reset the mock";
    this.act(() => admin("reset", { method: "POST" }), "The mock is reset: no calls, rules or tasks; the clock restarted.");
  }

  async act(call, done) {
    try {
      await call();
      this.app.say(done);
      await this.app.refresh();
    } catch (error) {
      this.app.report(error);
    }
  }
}

export function describe(rule) {
  const parts = [];
  if (rule.python) parts.push("a Python side effect");
  if (rule.match) parts.push(`when ${JSON.stringify(rule.match)}`);
  const replies = rule.replies || [rule.reply || {}];
  const said = replies.map(describeReply).filter((text) => text);
  if (said.length) parts.push(said.length > 1 ? `in turn: ${said.join("; then ")}` : said[0]);
  if (rule.delay_ms) parts.push(`wait ${rule.delay_ms} ms`);
  return parts.join(", ") || "nothing (matches only)";
}

// One canned reply, as the admin API lists it (the fields of a rule's ``reply``).
function describeReply(reply) {
  const parts = [];
  if (reply.content !== undefined) parts.push(`reply “${reply.content}”`);
  if (reply.tool_calls) parts.push(`call ${reply.tool_calls.map((call) => call.name).join(", ")}`);
  if (reply.refusal !== undefined) parts.push(`refuse “${reply.refusal}”`);
  if (reply.embedding) parts.push("a canned embedding");
  if (reply.example) parts.push(`example “${reply.example}”`);
  if (reply.body !== undefined) parts.push(`canned body (${reply.status || 200})`);
  else if (reply.error) parts.push(`answer ${reply.status || 500} “${reply.error.message}”`);
  if (reply.task && reply.task.fail) parts.push(`fail the task: “${reply.task.fail}”`);
  else if (reply.task) parts.push("finish the task with the given media");
  return parts.join(", ");
}
