import { api, badge, detailRegions, h, json, ms, showProblem, when } from "./dom.js";

const FOLLOW_MS = 1000;
const FOLLOW_TIMES = 15;

function attemptItem(a) {
  return h("li.attempt", {},
    h("p", {}, h("strong", { text: `Attempt ${a.number}` }), " — ", badge(a.outcome),
      h("time", { datetime: a.started_at, text: ` ${when(a.started_at)}` }),
      `, ${a.response_status === null ? "no HTTP answer" : `HTTP ${a.response_status}`}, ${ms(a.latency_ms)}`,
      a.error ? `, ${a.error}` : ""),
    a.response_excerpt ? h("pre.excerpt", { tabindex: 0, "aria-label": `Answer excerpt of attempt ${a.number}`, text: a.response_excerpt }) : null);
}

function deliveryCard(d, redeliver) {
  return h("article.card.delivery", { "aria-labelledby": `delivery-${d.id}` },
    h("h3", { id: `delivery-${d.id}` }, "Delivery ", h("span.mono", { text: d.id })),
    h("dl.facts", {},
      h("dt", { text: "Status" }), h("dd", {}, badge(d.status)),
      h("dt", { text: "Subscription" }), h("dd", {}, h("a.mono", { href: `#/triggers?subscription_id=${d.subscription_id}`, text: d.subscription_id })),
      h("dt", { text: "Attempts" }), h("dd", { text: String(d.attempts_count) }),
      h("dt", { text: "Last attempt" }), h("dd", { text: when(d.last_attempt_at) }),
      d.next_attempt_at ? [h("dt", { text: "Next attempt" }), h("dd", { text: when(d.next_attempt_at) })] : [],
      h("dt", { text: "Succeeded" }), h("dd", { text: when(d.succeeded_at) })),
    h("div.actions", {}, h("button", { type: "button", text: "Redeliver to this subscription", "aria-label": `Redeliver to this subscription (${d.subscription_id})`,
      on: { click: () => redeliver(d.subscription_id) } })),
    d.attempts.length
      ? h("ol.timeline", { "aria-label": `Attempts of delivery ${d.id}, newest first` }, d.attempts.map(attemptItem))
      : h("p", { text: "No attempt yet." }));
}

/** One trigger event: its facts, data as the API gives it, its deliveries with their attempts; redeliver. */
export function eventPage(id) {
  const { content, status } = detailRegions();
  let timer = null;

  async function redeliver(subscriptionId) {
    status.replaceChildren();
    try {
      const answer = await api("POST", `/v1/events/${id}/redeliver`, subscriptionId ? { subscription_id: subscriptionId } : {});
      status.replaceChildren(h("p.ok", { text: `Redelivery queued (${answer.deliveries} ${answer.deliveries === 1 ? "delivery" : "deliveries"}); new attempts appear below.` }));
      follow();
    } catch (error) {
      showProblem(status, error);
    }
  }
  function show(event) {
    content.replaceChildren(
      h("dl.facts", {},
        h("dt", { text: "Trigger" }), h("dd.mono", { text: event.trigger }),
        h("dt", { text: "Source" }), h("dd", { text: event.source }),
        h("dt", { text: "Connection" }), h("dd.mono", { text: event.connection_id ?? "—" }),
        h("dt", { text: "Created" }), h("dd", { text: when(event.created_at) })),
      h("div.actions", {}, h("button", { type: "button", text: "Redeliver", disabled: !event.deliveries.length,
        title: event.deliveries.length ? undefined : "The event was not delivered to any subscription.", on: { click: () => redeliver(undefined) } })),
      h("h2", { text: "Data" }), json(event.data, "Event data"),
      h("h2", { text: `Deliveries (${event.deliveries.length})` }),
      ...(event.deliveries.length ? event.deliveries.map((d) => deliveryCard(d, redeliver)) : [h("p", { text: "No subscription matched this event." })]));
    return event;
  }
  async function load() {
    try { return show((await api("GET", `/v1/events/${id}`)).event); } catch (error) {
      showProblem(content, error);
      return null;
    }
  }
  /** Reloads every second while a delivery is pending (at most FOLLOW_TIMES times after an action or on open). */
  function follow() {
    clearInterval(timer);
    let left = FOLLOW_TIMES;
    timer = setInterval(async () => {
      const event = await load();
      if (--left <= 0 || !event?.deliveries.some((d) => d.status === "pending")) clearInterval(timer);
    }, FOLLOW_MS);
  }
  load().then((event) => { if (event?.deliveries.some((d) => d.status === "pending")) follow(); });
  const node = h("section", { "aria-labelledby": "event-title" },
    h("p", {}, h("a", { href: "#/triggers", text: "← Triggers" })),
    h("h1", { id: "event-title" }, "Event ", h("span.mono", { text: id })), status, content);
  return { node, cleanup: () => clearInterval(timer) };
}
