import { api, badge, detailRegions, h, json, ms, problem, showProblem, when } from "./dom.js";

const TERMINAL = new Set(["succeeded", "failed", "canceled", "unknown"]);

function timeline(run) {
  const attempts = run.attempts ?? [];
  if (!attempts.length) return h("p", { text: "No attempt yet." });
  const t0 = Date.parse(run.created_at);
  const end = Math.max(Date.now() > t0 ? Date.parse(run.finished_at ?? attempts.at(-1).finished_at ?? attempts.at(-1).started_at) : t0, t0 + 1);
  const span = end - t0 || 1;
  return h("ol.timeline", { "aria-label": "Attempts" }, attempts.map((a) => {
    const start = Date.parse(a.started_at);
    const stop = a.finished_at ? Date.parse(a.finished_at) : start;
    const bar = h(`span.bar.o-${a.outcome ?? "running"}`, { "aria-hidden": "true" });
    bar.style.marginLeft = `${((start - t0) / span) * 100}%`;
    bar.style.width = `${Math.max(1, ((stop - start) / span) * 100)}%`;
    return h("li.attempt", {},
      h("div.track", {}, bar),
      h("p", {}, h("strong", { text: `Attempt ${a.number}` }), ` — ${a.outcome ?? "in flight"}, started ${when(a.started_at)}, `,
        `${ms(a.latency_ms)}${a.upstream_status ? `, upstream ${a.upstream_status}` : ""}`,
        a.error_code ? `, ${a.error_code}: ${a.error_message ?? ""}` : "",
        a.retry_delay_ms !== null ? `, retried after ${ms(a.retry_delay_ms)}` : ""));
  }));
}

function facts(run) {
  const item = (term, value) => [h("dt", { text: term }), h("dd", {}, value)];
  return h("dl.facts", {},
    item("Status", badge(run.status)),
    item("Action", h("a", { href: `#/actions?q=${encodeURIComponent(run.action)}`, text: run.action })),
    item("Connection", h("span.mono", { text: run.connection_id ?? "—" })),
    item("Schema version", String(run.schema_version)),
    item("Created", when(run.created_at)),
    item("Started", when(run.started_at)),
    item("Finished", when(run.finished_at)),
    item("Duration", ms(run.duration_ms)),
    item("Attempts", String(run.attempts_count)),
    run.idempotency_key ? item("Idempotency key", h("span.mono", { text: run.idempotency_key })) : [],
    !TERMINAL.has(run.status) ? item("Why it waits", run.status_reason ?? (run.status === "queued" ? "waiting for a worker" : "an attempt is in flight")) : [],
    run.next_attempt_at ? item("Next attempt", when(run.next_attempt_at)) : []);
}

/** One run: its facts, why it waits, input and envelope, attempts on a timeline; cancel and re-run. */
export function runPage(id) {
  const { content, status } = detailRegions();
  let events = null;

  async function act(fn) {
    status.replaceChildren();
    try { await fn(); } catch (error) { status.replaceChildren(problem(error)); }
  }
  function controls(run) {
    const cancel = h("button", { type: "button", text: "Cancel run", disabled: run.status !== "queued",
      on: { click: () => act(async () => { show((await api("POST", `/v1/runs/${run.id}/cancel`)).run); status.replaceChildren(h("p", { text: "Run canceled." })); }) } });
    const rerun = h("button", { type: "button", text: "Re-run with the same input", disabled: run.input_truncated,
      title: run.input_truncated ? "The stored input was compacted: it cannot be replayed." : undefined,
      on: { click: () => act(async () => {
        const body = { input: run.input, mode: "async", ...(run.connection_id ? { connection_id: run.connection_id } : {}) };
        const answer = await api("POST", `/v1/actions/${encodeURIComponent(run.action)}/execute`, body);
        location.hash = `#/runs/${answer.run_id}`;
      }) } });
    return h("div.actions", {}, cancel, rerun);
  }
  function show(run) {
    content.replaceChildren(
      facts(run), controls(run),
      h("h2", { text: "Attempts" }), timeline(run),
      h("h2", { text: "Input (as stored)" }), json(run.input, "Input"),
      h("h2", { text: "Envelope" }), run.output ? json(run.output, "Envelope") : h("p", { text: "Not ended yet." }));
    if (TERMINAL.has(run.status)) { events?.close(); events = null; } else if (!events) follow();
  }
  async function load() {
    try { show((await api("GET", `/v1/runs/${id}`)).run); } catch (error) {
      showProblem(content, error);
    }
  }
  /** Live: the run's server-sent events; each one reloads the run (with its attempts). */
  function follow() {
    events = new EventSource(`/v1/runs/${id}/events`);
    events.addEventListener("run", () => load());
    events.addEventListener("error", () => { events?.close(); events = null; });
  }
  load();
  const node = h("section", { "aria-labelledby": "run-title" },
    h("p", {}, h("a", { href: "#/runs", text: "← All runs" })),
    h("h1", { id: "run-title" }, "Run ", h("span.mono", { text: id })), status, content);
  return { node, cleanup: () => events?.close() };
}
