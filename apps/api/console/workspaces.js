import { api, h, showProblem, when } from "./dom.js";

/**
 * The workspace picker of an admin session (signed in with the admin token): the workspaces, searchable by name and
 * paged by cursor; picking one re-issues the session cookie acting in it (POST /console/session/workspace), and
 * `onPicked` receives the new session (its CSRF token changes with the cookie).
 */
export function workspacesPage(session, onPicked) {
  const search = h("input", { id: "ws-q", name: "q", type: "search", maxlength: 100, autocomplete: "off" });
  const body = h("tbody");
  const status = h("div", { "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true, text: "More workspaces" });
  let cursor = null;
  let q = "";

  function row(ws) {
    const current = ws.id === session.workspace_id;
    const open = h("button", {
      type: "button", text: current ? "Current" : "Open", disabled: current,
      "aria-label": current ? undefined : `Open workspace ${ws.name}`,
      on: { click: () => pick(ws) },
    });
    return h("tr", {},
      h("th", { scope: "row" }, ws.name, current ? h("span.tag", { text: "current" }) : null),
      h("td.mono", { text: ws.id }),
      h("td", { text: when(ws.created_at) }),
      h("td", {}, open));
  }

  async function load(append) {
    const query = new URLSearchParams({ limit: "50" });
    if (q) query.set("q", q);
    if (append && cursor) query.set("cursor", cursor);
    try {
      const answer = await api("GET", `/console/workspaces?${query}`);
      const rows = answer.workspaces.map(row);
      if (append) body.append(...rows);
      else body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 4, text: "No workspace matches." }))]));
      cursor = answer.next_cursor;
      more.hidden = !cursor;
      status.replaceChildren();
    } catch (error) {
      showProblem(status, error);
    }
  }

  async function pick(ws) {
    status.replaceChildren();
    try {
      const answer = await api("POST", "/console/session/workspace", { workspace_id: ws.id });
      onPicked(answer.session);
    } catch (error) {
      showProblem(status, error);
      if (error.status === 404) load(false);
    }
  }

  more.addEventListener("click", () => load(true));
  load(false);

  const node = h("section", { "aria-labelledby": "ws-title" },
    h("h1", { id: "ws-title", text: "Pick a workspace" }),
    h("p.help.intro", { text: session.workspace_id
      ? `Signed in with the admin token, acting in ${session.workspace_name ?? session.workspace_id}. Pick another workspace to switch; the console then shows only its runs, connections and actions.`
      : "Signed in with the admin token. Pick the workspace the console acts in; the console then shows only its runs, connections and actions." }),
    h("form.filters", {
      role: "search", "aria-label": "Search workspaces",
      on: { submit: (event) => { event.preventDefault(); q = search.value.trim(); load(false); } },
    }, h("div.field", {}, h("label", { for: "ws-q", text: "Workspace name" }), search), h("button", { type: "submit", text: "Search" })),
    status,
    h("table", {}, h("caption", { text: "Workspaces, oldest first" }),
      h("thead", {}, h("tr", {}, ["Name", "Id", "Created", "Act in it"].map((t) => h("th", { scope: "col", text: t })))),
      body),
    h("div.pager", {}, more));
  return { node };
}
