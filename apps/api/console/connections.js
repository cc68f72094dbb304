import { api, badge, h, problem, showProblem, when } from "./dom.js";
import { connectionEvents } from "./connection-events.js";

/** Connections: status, hint, last verified, last error, status changes; test, rename, set as default. */
export function connectionsPage() {
  const body = h("tbody");
  const history = h("div.histories");
  const status = h("div", { "aria-live": "polite" });

  async function act(fn, done) {
    status.replaceChildren();
    try { await fn(); await load(); if (done) status.replaceChildren(h("p.ok", { text: done() })); } catch (error) { status.replaceChildren(problem(error)); }
  }
  function row(c) {
    const nameInput = h("input", { id: `name-${c.id}`, value: c.name, maxlength: 100, "aria-label": `New name for ${c.name}` });
    let lastTest = null;
    const test = h("button", { type: "button", text: "Test", "aria-label": `Test: ${c.name}`, on: { click: () => act(async () => { lastTest = (await api("POST", `/v1/connections/${c.id}/test`)).test; },
      () => lastTest.successful ? `${c.name}: the upstream accepted the credentials (${lastTest.latency_ms} ms).` : `${c.name}: ${lastTest.error?.code}: ${lastTest.error?.message}`) } });
    const rename = h("form.inline", { on: { submit: (e) => { e.preventDefault(); act(() => api("PATCH", `/v1/connections/${c.id}`, { name: nameInput.value }), () => `Renamed to ${nameInput.value}.`); } } },
      nameInput, h("button", { type: "submit", text: "Rename" }));
    const makeDefault = h("button", { type: "button", text: "Set default", disabled: c.is_default, "aria-label": `Set default: ${c.name}`,
      on: { click: () => act(() => api("PATCH", `/v1/connections/${c.id}`, { is_default: true }), () => `${c.name} is the default ${c.integration} connection.`) } });
    return h("tr", {},
      h("th", { scope: "row" }, c.name, c.is_default ? h("span.tag", { text: "default" }) : null, h("div.mono.small", { text: c.id })),
      h("td", { text: c.integration }),
      h("td", {}, badge(c.status)),
      h("td.mono", { text: c.credential_hint }),
      h("td", { text: when(c.last_verified_at) }),
      h("td", { text: c.last_error ?? "—" }),
      h("td", {}, h("div.actions", {}, test, makeDefault), rename));
  }
  async function load() {
    try {
      const { connections } = await api("GET", "/v1/connections");
      body.replaceChildren(...(connections.length ? connections.map(row) : [h("tr", {}, h("td", { colspan: 7, text: "No connections yet (POST /v1/connections)." }))]));
      history.replaceChildren(...connections.map(connectionEvents));
    } catch (error) {
      showProblem(status, error);
    }
  }
  load();
  const node = h("section", { "aria-labelledby": "connections-title" },
    h("h1", { id: "connections-title", text: "Connections" }), status,
    h("table", {}, h("caption", { text: "The workspace's connections (secrets are never shown, only a hint)" }),
      h("thead", {}, h("tr", {}, ["Name", "Integration", "Status", "Credential", "Last verified", "Last error", "Manage"].map((t) => h("th", { scope: "col", text: t })))),
      body),
    h("h2", { text: "Status changes" }),
    h("p.help.intro", { text: "Every change between active, degraded and invalid, newest first, with its reason." }),
    history);
  return { node };
}
