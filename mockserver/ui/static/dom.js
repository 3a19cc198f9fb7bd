// Small DOM helpers. Everything the page shows came from clients of the mock, so text is only ever
// set as text (never parsed as HTML), and only http(s) URLs become links or media sources.

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (typeof value !== "string" && name in element) element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// ``compact``: one line (wrapped by the page), for the many small items of a timeline.
export function json(value, { compact = false } = {}) {
  return h("pre", { class: "json" }, typeof value === "string" ? value : JSON.stringify(value, null, compact ? 0 : 2));
}

export function safeUrl(text) {
  try {
    const url = new URL(text, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function clockTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

export function shortTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString().slice(11, 19);
}

export function formValues(form) {
  return Object.fromEntries([...new FormData(form)].map(([name, value]) => [name, String(value).trim()]));
}
