import { api, badge, cursorTable, field, filterForm, h, showProblem, when } from "./dom.js";

const EVENT_FILTERS = ["trigger", "status", "subscription_id"];
const DELIVERY_STATUSES = ["pending", "succeeded", "failed"];


/** The subscriptions table: trigger, target, status (and why disabled), secret hint, last success; pause/resume, test. */
function subscriptionsSection(onTest) {
  const body = h("tbody");
  const status = h("div", { "aria-live": "polite" });

  async function act(fn, done) {
    status.replaceChildren();
    try { const answer = await fn(); await load(); if (done) status.replaceChildren(done(answer)); } catch (error) { showProblem(status, error); }
  }
  function row(sub) {
    const label = `${sub.trigger} → ${sub.target.url}`;
    const paused = sub.status !== "active";
    const toggle = h("button", { type: "button", text: paused ? "Resume" : "Pause", "aria-label": `${paused ? "Resume" : "Pause"}: ${label}`,
      on: { click: () => act(() => api("POST", `/v1/trigger-subscriptions/${sub.id}/${paused ? "resume" : "pause"}`),
        () => h("p.ok", { text: `${sub.trigger}: deliveries ${paused ? "resumed" : "paused"}.` })) } });
    const test = h("button", { type: "button", text: "Send test event", "aria-label": `Send test event: ${label}`,
      on: { click: () => act(() => api("POST", `/v1/trigger-subscriptions/${sub.id}/test`), (answer) => {
        onTest();
        return h("p.ok", {}, "Test event sent: ", h("a", { href: `#/events/${answer.event_id}`, text: `event ${answer.event_id}` }), ".");
      }) } });
    return h("tr", {},
      h("th", { scope: "row" }, h("span.mono", { text: sub.trigger }), h("div.mono.small", { text: sub.id })),
      h("td.mono.url", { text: sub.target.url }),
      h("td", {}, badge(sub.status), sub.disabled_reason ? h("div.small", { text: sub.disabled_reason }) : null,
        sub.failing_since ? h("div.small", { text: `failing since ${when(sub.failing_since)}` }) : null),
      h("td.mono", { text: sub.secret_hint }),
      h("td", { text: when(sub.last_success_at) }),
      h("td", {}, h("div.actions", {}, toggle, test),
        h("a", { href: `#/triggers?subscription_id=${sub.id}`, text: "Its events", "aria-label": `Its events: ${label}` })));
  }
  async function load() {
    try {
      const { subscriptions } = await api("GET", "/v1/trigger-subscriptions");
      body.replaceChildren(...(subscriptions.length ? subscriptions.map(row)
        : [h("tr", {}, h("td", { colspan: 6, text: "No subscriptions yet (POST /v1/trigger-subscriptions)." }))]));
    } catch (error) {
      showProblem(status, error);
    }
  }
  load();
  return h("section", { "aria-labelledby": "subscriptions-title" },
    h("h2", { id: "subscriptions-title", text: "Subscriptions" }), status,
    h("table", {}, h("caption", { text: "Where each trigger's events are delivered (the signing secret is never shown, only a hint)" }),
      h("thead", {}, h("tr", {}, ["Trigger", "Target URL", "Status", "Secret", "Last success", "Manage"].map((t) => h("th", { scope: "col", text: t })))),
      body));
}

function filtersForm(params) {
  const trigger = h("select", { id: "f-trigger", name: "trigger" }, h("option", { value: "", text: "any" }));
  const chosen = params.get("trigger");
  if (chosen) trigger.append(h("option", { value: chosen, text: chosen, selected: true }));
  (async () => {
    let cursor = null;
    for (let page = 0; page < 10; page++) {
      const answer = await api("GET", `/v1/triggers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      trigger.append(...answer.triggers.filter((t) => t.slug !== chosen).map((t) => h("option", { value: t.slug, text: t.slug })));
      cursor = answer.next_cursor;
      if (!cursor) break;
    }
  })().catch(() => {});
  const status = h("select", { id: "f-dstatus", name: "status" }, h("option", { value: "", text: "any" }),
    DELIVERY_STATUSES.map((v) => h("option", { value: v, text: v, selected: params.get("status") === v })));
  const subscription = params.get("subscription_id");
  return filterForm("triggers", "Filter events",
  field("f-trigger", "Trigger", trigger),
  field("f-dstatus", "Delivery status", status),
  subscription ? h("input", { type: "hidden", name: "subscription_id", value: subscription }) : null,
  subscription ? h("p.small", {}, `Delivered to subscription ${subscription} · `, h("a", { href: "#/triggers", text: "all events" })) : null,
  );
}

/** One event's delivery outcome, read from its deliveries (the list does not carry it). */
function deliverySummary(event) {
  const cell = h("td", { text: "…" });
  api("GET", `/v1/events/${event.id}`).then(({ event: full }) => {
    if (!full.deliveries.length) { cell.replaceChildren("no delivery"); return; }
    const counts = new Map();
    for (const d of full.deliveries) counts.set(d.status, (counts.get(d.status) ?? 0) + 1);
    cell.replaceChildren(...[...counts].map(([s, n]) => h("span.count", {}, badge(s), n > 1 ? ` ×${n}` : "")));
  }, () => cell.replaceChildren("—"));
  return cell;
}

/** The event log: trigger, source, delivery status, created; filters kept in the URL; cursor paging. */
function eventsSection(params) {
  const query = new URLSearchParams({ limit: "25" });
  for (const key of EVENT_FILTERS) if (params.get(key)) query.set(key, params.get(key));
  const status = h("div", { "aria-live": "polite" });

  function row(event) {
    return h("tr", {},
      h("td", {}, h("a.mono", { href: `#/events/${event.id}`, text: event.trigger, "aria-label": `Event ${event.id}: ${event.trigger}` })),
      h("td", { text: event.source }),
      deliverySummary(event),
      h("td", { text: when(event.created_at) }));
  }
  const table = cursorTable({ path: "/v1/events", query, list: "events", row, columns: 4, empty: "No events match.", status });
  const node = h("section", { "aria-labelledby": "events-title" },
    h("h2", { id: "events-title", text: "Event log" }),
    filtersForm(params), status,
    h("table.eventlog", {}, h("caption", { text: "Trigger events, newest first (status: their deliveries')" }),
      h("thead", {}, h("tr", {}, ["Trigger", "Source", "Deliveries", "Created"].map((t) => h("th", { scope: "col", text: t })))),
      table.body),
    table.pager);
  return { node, reload: table.refresh };
}

/** Triggers: the workspace's subscriptions and its event log. */
export function triggersPage(params) {
  const events = eventsSection(params);
  const node = h("section", { "aria-labelledby": "triggers-title" },
    h("h1", { id: "triggers-title", text: "Triggers" }),
    subscriptionsSection(() => events.reload()),
    events.node);
  return { node };
}
