import { api, h, problem, showProblem, when } from "./dom.js";
import { schemaForm } from "./schema-form.js";

/** Actions: search by words; one action's input and output schemas as readable forms, and its schema versions. */
export function actionsPage(params) {
  const q = params.get("q") ?? "";
  const selected = params.get("slug");
  const list = h("ul.list", { "aria-label": "Matching actions" });
  const detail = h("div.detail");
  const status = h("div", { "aria-live": "polite" });
  const search = h("input", { id: "action-q", type: "search", name: "q", value: q, maxlength: 200, autocomplete: "off" });
  const form = h("form.filters", { role: "search", "aria-label": "Search actions", on: { submit: (e) => { e.preventDefault(); location.hash = `#/actions?q=${encodeURIComponent(search.value.trim())}`; } } },
    h("div.field", {}, h("label", { for: "action-q", text: "Search actions" }), search), h("button", { type: "submit", text: "Search" }));

  async function load() {
    try {
      const { actions } = await api("GET", `/v1/actions?limit=100${q ? `&q=${encodeURIComponent(q)}` : ""}`);
      status.replaceChildren(h("p", { text: `${actions.length} action${actions.length === 1 ? "" : "s"}${q ? ` matching “${q}”` : ""}.` }));
      list.replaceChildren(...actions.map((a) => h("li", {}, h("a", { href: `#/actions?q=${encodeURIComponent(q)}&slug=${a.slug}`, "aria-current": a.slug === selected ? "true" : undefined },
        h("strong", { text: a.name }), " ", h("span.mono.small", { text: a.slug })), h("p.small", { text: a.description }))));
    } catch (error) {
      showProblem(status, error);
    }
  }
  async function loadDetail(slug) {
    try {
      const [{ action }, versions] = await Promise.all([api("GET", `/v1/actions/${slug}`), api("GET", `/v1/actions/${slug}/versions`)]);
      detail.replaceChildren(
        h("h2", { text: action.name }), h("p.mono", { text: `${action.slug} · schema v${action.schema_version ?? "?"}` }), h("p", { text: action.description }),
        h("h3", { text: "Input" }), schemaForm(action.input_schema, "input"),
        h("h3", { text: "Output" }), schemaForm(action.output_schema, "output"),
        h("h3", { text: "Schema versions" }),
        h("table", {}, h("caption", { text: "Newest first; compatibility against the version before" }),
          h("thead", {}, h("tr", {}, ["Version", "Compatibility", "Changes", "Registered"].map((t) => h("th", { scope: "col", text: t })))),
          h("tbody", {}, versions.versions.map((v) => h("tr", {},
            h("td", { text: `v${v.version}${v.version === versions.current_version ? " (current)" : ""}` }),
            h("td", {}, h(`span.badge.c-${v.compatibility ?? "none"}`, { text: v.compatibility ?? "first" })),
            h("td", {}, v.changes.length ? h("ul", {}, v.changes.map((c) => h("li", {}, h("span.mono", { text: c.path }), ` ${c.message} (${c.compatibility})`))) : "—"),
            h("td", { text: when(v.created_at) }))))));
    } catch (error) {
      detail.replaceChildren(problem(error));
    }
  }
  load();
  if (selected) loadDetail(selected);
  const node = h("section", { "aria-labelledby": "actions-title" }, h("h1", { id: "actions-title", text: "Actions" }), form, status, h("div.split", {}, list, detail));
  return { node };
}
