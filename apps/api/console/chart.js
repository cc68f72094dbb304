import { h, s } from "./dom.js";

export const STATUSES = ["succeeded", "failed", "canceled", "running", "queued"];
const W = 640, H = 160, PAD = 28;

/** Stacked bars of runs per minute by status, over the whole window (empty minutes included). */
export function runsChart(stats) {
  const minutes = [];
  const start = Date.parse(stats.since);
  const byMinute = new Map(stats.buckets.map((b) => [Date.parse(b.minute), b]));
  for (let i = 0; i < stats.window_minutes; i++) minutes.push(byMinute.get(start + i * 60_000) ?? null);
  const max = Math.max(1, ...minutes.map((b) => (b ? STATUSES.reduce((n, k) => n + b[k], 0) : 0)));
  const bw = (W - PAD) / minutes.length;
  const bars = [];
  minutes.forEach((b, i) => {
    if (!b) return;
    let y = H - PAD;
    for (const k of STATUSES) {
      if (!b[k]) continue;
      const bh = (b[k] / max) * (H - PAD * 1.5);
      y -= bh;
      bars.push(s("rect", { x: PAD + i * bw, y, width: Math.max(1, bw - 1), height: bh, class: `f-${k}` }, s("title", {}, `${new Date(start + i * 60_000).toLocaleTimeString()}: ${b[k]} ${k}`)));
    }
  });
  return figure("Runs per minute by status", `${stats.total} runs in the last ${stats.window_minutes} minutes`, max, bars, STATUSES);
}

/** Lines of the p50 and p95 latency per minute. */
export function latencyChart(stats) {
  const start = Date.parse(stats.since);
  const points = stats.buckets.filter((b) => b.p50_ms !== null);
  const max = Math.max(1, ...points.map((b) => b.p95_ms ?? 0));
  const x = (b) => PAD + ((Date.parse(b.minute) - start) / 60_000 + 0.5) * ((W - PAD) / stats.window_minutes);
  const y = (v) => H - PAD - (v / max) * (H - PAD * 1.5);
  const line = (key) => s("polyline", { points: points.map((b) => `${x(b)},${y(b[key])}`).join(" "), class: `l-${key}` });
  const dots = points.flatMap((b) => ["p50_ms", "p95_ms"].map((k) => s("circle", { cx: x(b), cy: y(b[k]), r: 2.5, class: `f-${k}` }, s("title", {}, `${k.slice(0, 3)} ${b[k]} ms`))));
  const summary = stats.p50_ms === null ? "no ended runs" : `p50 ${stats.p50_ms} ms, p95 ${stats.p95_ms} ms over the window`;
  return figure("Latency p50 / p95 (ms)", summary, max, [line("p50_ms"), line("p95_ms"), ...dots], ["p50_ms", "p95_ms"]);
}

function figure(title, summary, max, marks, legend) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${summary}`, class: "chart" },
    s("line", { x1: PAD, y1: H - PAD, x2: W, y2: H - PAD, class: "axis" }),
    s("text", { x: 2, y: PAD * 0.9, class: "tick" }, String(max)),
    s("text", { x: 2, y: H - PAD, class: "tick" }, "0"),
    marks);
  return h("figure.card", {}, h("figcaption", {}, h("strong", { text: title }), " — ", summary), svg,
    h("ul.legend", {}, legend.map((k) => h("li", {}, h(`span.swatch.f-${k}`, { "aria-hidden": "true" }), k.replace("_ms", "")))));
}
