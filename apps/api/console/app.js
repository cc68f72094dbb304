import { api, h, problem, setCsrf } from "./dom.js";
import { runsPage } from "./runs.js";
import { runPage } from "./run.js";
import { connectionsPage } from "./connections.js";
import { actionsPage } from "./actions.js";
import { triggersPage } from "./triggers.js";
import { eventPage } from "./event.js";
import { workspacesPage } from "./workspaces.js";

const main = document.getElementById("main");
let session = null;
let cleanup = null;

const routes = [
  [/^#\/runs\/([0-9a-f-]{36})$/, (m) => runPage(m[1]), "Run"],
  [/^#\/runs(?:\?(.*))?$/, (m) => runsPage(new URLSearchParams(m[1] ?? "")), "Runs"],
  [/^#\/connections$/, () => connectionsPage(), "Connections"],
  [/^#\/actions(?:\?(.*))?$/, (m) => actionsPage(new URLSearchParams(m[1] ?? "")), "Actions"],
  [/^#\/triggers(?:\?(.*))?$/, (m) => triggersPage(new URLSearchParams(m[1] ?? "")), "Triggers"],
  [/^#\/events\/([0-9a-f-]{36})$/, (m) => eventPage(m[1]), "Event"],
];

/** After an admin session picks a workspace: its runs, with the new session (and CSRF token). */
function picked(state) {
  history.pushState(null, "", "#/runs");
  start(state);
}

function signInPage() {
  const input = h("input", { id: "api-key", name: "credential", type: "password", autocomplete: "off", required: true, maxlength: 512, "aria-describedby": "api-key-help" });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form.card.signin", {
    on: {
      submit: async (event) => {
        event.preventDefault();
        status.replaceChildren();
        try {
          // A workspace key starts with nk_; anything else is tried as the admin token.
          const value = input.value.trim();
          const answer = await api("POST", "/console/session", value.startsWith("nk_") ? { api_key: value } : { admin_token: value });
          input.value = "";
          start(answer.session);
        } catch (error) {
          status.replaceChildren(problem(error.status === 401 ? { code: "UNAUTHORIZED", message: "That is not a valid workspace API key or admin token." } : error));
        }
      },
    },
  },
  h("h1", { text: "Sign in" }),
  h("label", { for: "api-key", text: "Workspace API key or admin token" }), input,
  h("p.help", { id: "api-key-help", text: "A workspace key (nk_…) signs in to its workspace; the admin token lets you pick a workspace. " +
    "Either is exchanged for a session cookie and is not kept in this browser." }),
  h("button", { type: "submit", text: "Sign in" }), status);
  return form;
}

function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  if (!session) {
    document.title = "Sign in · Nagent console";
    main.replaceChildren(signInPage());
    document.getElementById("api-key")?.focus();
    return;
  }
  const picker = session.kind === "admin" && (!session.workspace_id || location.hash === "#/workspaces");
  const switchLink = document.getElementById("switch");
  if (picker) switchLink.setAttribute("aria-current", "page"); else switchLink.removeAttribute("aria-current");
  if (picker) {
    document.title = "Pick a workspace · Nagent console";
    for (const a of document.querySelectorAll("#nav a")) a.removeAttribute("aria-current");
    const page = workspacesPage(session, picked);
    main.replaceChildren(page.node);
    return;
  }
  const hash = location.hash || "#/runs";
  for (const [pattern, build, title] of routes) {
    const m = pattern.exec(hash);
    if (!m) continue;
    document.title = `${title} · Nagent console`;
    for (const a of document.querySelectorAll("#nav a")) {
      if (hash.startsWith(a.getAttribute("href")) || (title === "Event" && a.getAttribute("href") === "#/triggers")) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    const page = build(m);
    cleanup = page.cleanup ?? null;
    main.replaceChildren(page.node);
    return;
  }
  location.hash = "#/runs";
}

function start(state) {
  session = state;
  setCsrf(state?.csrf_token ?? null);
  const inWorkspace = Boolean(state?.workspace_id);
  const workspace = state?.workspace_name ?? state?.workspace_id;
  document.getElementById("nav").hidden = !inWorkspace;
  document.getElementById("signout").hidden = !state;
  document.getElementById("switch").hidden = state?.kind !== "admin";
  document.getElementById("who").textContent = !state ? "" : state.kind === "admin"
    ? `Admin · ${inWorkspace ? `Workspace ${workspace}` : "no workspace picked"}` : `Workspace ${workspace}`;
  render();
}

document.getElementById("signout").addEventListener("click", async () => {
  try { await api("DELETE", "/console/session"); } finally { start(null); }
});
window.addEventListener("hashchange", render);
/**
 * A page whose session ended (expired, key revoked, admin token rotated) falls back to sign-in; an admin session whose
 * workspace was deleted falls back to the picker.
 */
window.addEventListener("console:unauthorized", () => {
  api("GET", "/console/session").then((answer) => start(answer.session), () => start(null));
});

api("GET", "/console/session").then((answer) => start(answer.session), () => start(null));
