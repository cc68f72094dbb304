import { api, badge, h, showProblem, when } from "./dom.js";

/**
 * A connection's status changes (GET /v1/connections/:id/events), newest first: from → to, reason, time.
 * "More" fetches the next cursor page and appends it.
 */
export function connectionEvents(connection) {
  const list = h("ol.events", { "aria-label": `Status changes of ${connection.name}` });
  const status = h("div", { "aria-live": "polite" });
  const more = h("button.link", { type: "button", text: "More", hidden: true, "aria-label": `More status changes of ${connection.name}` });
  let cursor = null;

  function item(e) {
    return h("li.event", {},
      badge(e.from), h("span", { text: " → " }), badge(e.to),
      h("span.reason", { text: ` ${e.reason}` }),
      h("time.small", { datetime: e.created_at, text: ` · ${when(e.created_at)}` }));
  }
  async function load() {
    status.replaceChildren();
    more.disabled = true;
    try {
      const query = new URLSearchParams({ limit: "10" });
      if (cursor) query.set("cursor", cursor);
      const answer = await api("GET", `/v1/connections/${connection.id}/events?${query}`);
      if (!cursor && !answer.events.length) list.replaceChildren(h("li.small", { text: "No status change yet." }));
      else list.append(...answer.events.map(item));
      cursor = answer.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      showProblem(status, error);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  load();
  return h("section.card.history", { "aria-labelledby": `events-${connection.id}` },
    h("h3", { id: `events-${connection.id}`, text: `${connection.name}: status changes` }),
    list, more, status);
}
