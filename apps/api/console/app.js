import { api, h, problem, setCsrf } from "./dom.js";
import { runsPage } from "./runs.js";
import { runPage } from "./run.js";
import { connectionsPage } from "./connections.js";
import { actionsPage } from "./actions.js";

const main = document.getElementById("main");
let session = null;
let cleanup = null;

const routes = [
  [/^#\/runs\/([0-9a-f-]{36})$/, (m) => runPage(m[1]), "Run"],
  [/^#\/runs(?:\?(.*))?$/, (m) => runsPage(new URLSearchParams(m[1] ?? "")), "Runs"],
  [/^#\/connections$/, () => connectionsPage(), "Connections"],
  [/^#\/actions(?:\?(.*))?$/, (m) => actionsPage(new URLSearchParams(m[1] ?? "")), "Actions"],
];

function signInPage() {
  const input = h("input", { id: "api-key", name: "api_key", type: "password", autocomplete: "off", required: true, maxlength: 512, "aria-describedby": "api-key-help" });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form.card.signin", {
    on: {
      submit: async (event) => {
        event.preventDefault();
        status.replaceChildren();
        try {
          const answer = await api("POST", "/console/session", { api_key: input.value });
          input.value = "";
          start(answer.session);
        } catch (error) {
          status.replaceChildren(problem(error.status === 401 ? { code: "UNAUTHORIZED", message: "That is not a valid workspace API key." } : error));
        }
      },
    },
  },
  h("h1", { text: "Sign in" }),
  h("label", { for: "api-key", text: "Workspace API key" }), input,
  h("p.help", { id: "api-key-help", text: "The key (nk_…) is exchanged for a session cookie and is not kept in this browser." }),
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
  const hash = location.hash || "#/runs";
  for (const [pattern, build, title] of routes) {
    const m = pattern.exec(hash);
    if (!m) continue;
    document.title = `${title} · Nagent console`;
    for (const a of document.querySelectorAll("#nav a")) {
      if (hash.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
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
  document.getElementById("nav").hidden = !state;
  document.getElementById("signout").hidden = !state;
  document.getElementById("who").textContent = state ? `Workspace ${state.workspace_id}` : "";
  render();
}

document.getElementById("signout").addEventListener("click", async () => {
  try { await api("DELETE", "/console/session"); } finally { start(null); }
});
window.addEventListener("hashchange", render);
/** A page whose session ended (expired, key revoked) falls back to sign-in. */
window.addEventListener("console:unauthorized", () => start(null));

api("GET", "/console/session").then((answer) => start(answer.session), () => start(null));
