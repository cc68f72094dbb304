import { api, badge, cursorTable, field, filterForm, h, ms, problem, when } from "./dom.js";
import { latencyChart, runsChart, STATUSES } from "./chart.js";

const FILTERS = ["status", "action", "connection_id", "error_code", "created_after", "created_before"];
const POLL_MS = 4000;


function filtersForm(params, windowMinutes) {
  const status = h("select", { id: "f-status", name: "status" }, h("option", { value: "", text: "any" }), [...STATUSES, "unknown"].map((v) => h("option", { value: v, text: v, selected: params.get("status") === v })));
  const text = (name, placeholder, max) => h("input", { id: `f-${name}`, name, value: params.get(name) ?? "", placeholder, maxlength: max, autocomplete: "off" });
  const windowSelect = h("select", { id: "f-window", name: "window" }, [15, 60, 360, 1440].map((v) => h("option", { value: v, text: v < 60 ? `${v} minutes` : `${v / 60} hours`, selected: v === windowMinutes })));
  return filterForm("runs", "Filter runs",
  field("f-status", "Status", status),
  field("f-action", "Action", text("action", "SCALE_AI_…", 128)),
  field("f-connection_id", "Connection id", text("connection_id", "uuid", 36)),
  field("f-error_code", "Error code", text("error_code", "UPSTREAM_…", 64)),
  field("f-created_after", "Created after", text("created_after", "2026-12-04T20:00:00Z", 40)),
  field("f-created_before", "Created before", text("created_before", "ISO 8601", 40)),
  field("f-window", "Chart window", windowSelect),
  );
}

function row(run) {
  return h("tr", {},
    h("td", {}, badge(run.status)),
    h("td", {}, h("a", { href: `#/runs/${run.id}`, text: run.action, "aria-label": `Run ${run.id}: ${run.action}, ${run.status}` })),
    h("td.mono", { text: run.connection_id ? run.connection_id.slice(0, 8) : "—", title: run.connection_id ?? "" }),
    h("td.num", { text: ms(run.duration_ms) }),
    h("td.num", { text: String(run.attempts_count) }),
    h("td", { text: when(run.created_at) }));
}

/** The runs page: charts, filters, a table paged by cursor, refreshed every few seconds while on the first page. */
export function runsPage(params) {
  const windowMinutes = Number(params.get("window")) || 60;
  const query = new URLSearchParams();
  for (const key of FILTERS) if (params.get(key)) query.set(key, params.get(key));
  query.set("limit", "25");
  const charts = h("div.charts", { "aria-live": "off" });
  const status = h("div", { "aria-live": "polite" });
  const table = cursorTable({ path: "/v1/runs", query, list: "runs", row, columns: 6, empty: "No runs match.", status });
  async function loadStats() {
    try {
      const stats = await api("GET", `/v1/runs/stats?window_minutes=${windowMinutes}`);
      charts.replaceChildren(runsChart(stats), latencyChart(stats));
    } catch (error) {
      charts.replaceChildren(problem(error));
    }
  }
  loadStats();
  const timer = setInterval(() => {
    if (document.hidden) return;
    loadStats();
    table.refresh();
  }, POLL_MS);

  const node = h("section", { "aria-labelledby": "runs-title" },
    h("h1", { id: "runs-title", text: "Runs" }),
    charts,
    filtersForm(params, windowMinutes),
    status,
    h("table", {}, h("caption", { text: "Runs, newest first (live: refreshed every few seconds on the first page)" }),
      h("thead", {}, h("tr", {}, ["Status", "Action", "Connection", "Duration", "Attempts", "Created"].map((t) => h("th", { scope: "col", text: t })))),
      table.body),
    table.pager);
  return { node, cleanup: () => clearInterval(timer) };
}
