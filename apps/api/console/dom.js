// A tiny DOM builder and the console's API client. No framework: the pages are small tables and forms.

/** h("tag.class", {attr, on: {event: fn}}, ...children) */
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

/** The SVG namespace twin of h(). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : String(child));
  return el;
}

let csrfToken = null;
export function setCsrf(token) { csrfToken = token; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? "HTTP_ERROR";
  }
}

/** Calls the API with the session cookie; state-changing calls carry the CSRF token (held in memory only). */
export async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

export function ms(value) {
  if (value === null || value === undefined) return "—";
  return value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

export function badge(status) {
  return h(`span.badge.s-${status}`, { text: status });
}

export function problem(error) {
  return h("p.error", { role: "alert" }, `${error.code ?? "Error"}: ${error.message}`);
}

/** Shows an API error in `target`; a 401 (the session ended) also sends the console back to its sign-in. */
export function showProblem(target, error) {
  if (error.status === 401) window.dispatchEvent(new Event("console:unauthorized"));
  target.replaceChildren(problem(error));
}

/** A detail page's regions: its content ("Loading…" until the first answer) and a live line for actions' outcomes. */
export function detailRegions() {
  return { content: h("div", {}, h("p", { text: "Loading…" })), status: h("div", { "aria-live": "polite" }) };
}

/**
 * A table body paged by cursor: GET `path` with `query` (and `cursor`), one `row` per item of the answer's `list`
 * array, "First page" / "Next page" buttons following `next_cursor`; errors show in `status`. Loads the first page.
 */
export function cursorTable({ path, query, list, row, columns, empty, status }) {
  const body = h("tbody");
  const more = h("button", { type: "button", hidden: true, text: "Next page" });
  const first = h("button", { type: "button", hidden: true, text: "First page" });
  let cursor = null;
  let onFirstPage = true;

  async function load(pageCursor) {
    const q = new URLSearchParams(query);
    if (pageCursor) q.set("cursor", pageCursor);
    try {
      const answer = await api("GET", `${path}?${q}`);
      const items = answer[list];
      body.replaceChildren(...(items.length ? items.map(row) : [h("tr", {}, h("td", { colspan: columns, text: empty }))]));
      cursor = answer.next_cursor;
      more.hidden = !cursor;
      first.hidden = onFirstPage;
      status.replaceChildren();
    } catch (error) {
      showProblem(status, error);
    }
  }
  more.addEventListener("click", () => { onFirstPage = false; load(cursor); });
  first.addEventListener("click", () => { onFirstPage = true; load(null); });
  load(null);
  /** `refresh()` reloads the first page, only while it is the one shown (a later page stays as the reader left it). */
  return { body, pager: h("div.pager", {}, first, more), refresh: () => { if (onFirstPage) load(null); } };
}

/** A JSON value, pretty-printed in a focusable, scrollable block. */
export function json(value, label) {
  return h("pre.json", { tabindex: 0, "aria-label": label }, JSON.stringify(value, null, 2));
}

/** A labelled form control. */
export function field(id, label, control) {
  return h("div.field", {}, h("label", { for: id, text: label }), control);
}

/**
 * A filter form whose submit puts its non-empty values into the page's URL (`#/<route>?…`), so a filtered view can
 * be bookmarked; the page re-renders from the URL.
 */
export function filterForm(route, label, ...controls) {
  return h("form.filters", {
    role: "search", "aria-label": label,
    on: {
      submit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        for (const [key, value] of new FormData(event.target)) if (String(value).trim()) next.set(key, String(value).trim());
        location.hash = `#/${route}?${next}`;
      },
    },
  }, ...controls, h("button", { type: "submit", text: "Apply" }));
}
