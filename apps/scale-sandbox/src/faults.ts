import type { Socket } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ScaleError } from "./errors";
import { compileCheck, type JsonSchema } from "./validate";

/**
 * One fault, applied to the requests of a key (or of every key, under `*`) that match `route`. Several kinds may be
 * combined in one rule; the latency is added first, then the first of drop, hang, rate limit, error that fires.
 */
export interface FaultRule {
  /** `METHOD /path/glob` or `/path/glob`, where `*` matches any characters: `POST /v1/task/*`. Omitted: every route. */
  readonly route?: string;
  /** Added latency before the answer: fixed milliseconds, or a uniform random [min, max]. */
  readonly latency_ms?: number | readonly [number, number];
  /** At most `requests` per fixed window of `window_ms`; the rest answer 429, with Retry-After if `retry_after`. */
  readonly rate_limit?: { readonly requests: number; readonly window_ms: number; readonly retry_after?: boolean };
  /** Share (0–1) of matching requests answered with `error_status` (500 by default) instead of being served. */
  readonly error_rate?: number;
  readonly error_status?: 500 | 503;
  /** Never answer: the request stays open until the client gives up (or the sandbox closes). */
  readonly hang?: boolean;
  /** Destroy the connection without answering (the request is not served). */
  readonly drop?: boolean;
  /**
   * Serve the request (a task or batch is created), then destroy the connection instead of sending the answer: the
   * upstream did the work but the client never hears of it (a lost answer).
   */
  readonly drop_after?: boolean;
  /** Serve the request, then answer 2xx with every top-level field of the JSON answer set to null (a malformed answer). */
  readonly malform?: boolean;
  /** Apply to the next `times` matching requests only, then the rule expires. */
  readonly times?: number;
}

/** Keys that apply to every key's requests. */
export const ANY_KEY = "*";

const RULE_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    route: { type: "string", minLength: 1, maxLength: 512 },
    latency_ms: {
      anyOf: [
        { type: "integer", minimum: 0, maximum: 600_000 },
        { type: "array", minItems: 2, maxItems: 2, items: { type: "integer", minimum: 0, maximum: 600_000 } },
      ],
    },
    rate_limit: {
      type: "object",
      additionalProperties: false,
      required: ["requests", "window_ms"],
      properties: {
        requests: { type: "integer", minimum: 0, maximum: 1_000_000 },
        window_ms: { type: "integer", minimum: 1, maximum: 86_400_000 },
        retry_after: { type: "boolean" },
      },
    },
    error_rate: { type: "number", minimum: 0, maximum: 1 },
    error_status: { enum: [500, 503] },
    hang: { type: "boolean" },
    drop: { type: "boolean" },
    drop_after: { type: "boolean" },
    malform: { type: "boolean" },
    times: { type: "integer", minimum: 1, maximum: 1_000_000 },
  },
};

/** Checks a list of fault rules (from the control API or start options); throws a 400 naming the first problem. */
export const checkFaultRules = compileCheck<FaultRule[]>({ type: "array", maxItems: 100, items: RULE_SCHEMA });

interface ActiveRule {
  readonly rule: FaultRule;
  readonly method: string | null;
  readonly path: RegExp | null;
  remaining: number | undefined;
  windowStart: number;
  windowCount: number;
}

type Outcome = { kind: "pass" } | { kind: "drop" } | { kind: "hang" } | { kind: "drop_after" } | { kind: "malform" } | { kind: "error"; error: ScaleError };

/** Requests served normally whose answer a fault then loses or garbles (see `onSend`). */
const afterServe = new WeakMap<FastifyRequest, "drop_after" | "malform">();

function compileRoute(route: string | undefined): { method: string | null; path: RegExp | null } {
  if (route === undefined) return { method: null, path: null };
  const match = /^(?:([A-Za-z]+|\*)\s+)?(\S+)$/.exec(route.trim());
  const method = match?.[1] && match[1] !== "*" ? match[1].toUpperCase() : null;
  const glob = match?.[2] ?? route;
  const source = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return { method, path: new RegExp(`^${source}$`) };
}

/**
 * The faults in force, per key, and their application to requests: latency, rate limits (429), 500/503 answers,
 * hangs and dropped connections, for testing clients' timeouts and retries against a sandbox that misbehaves.
 */
export class FaultInjector {
  private readonly rules = new Map<string, ActiveRule[]>();
  private readonly hanging = new Set<Socket>();
  private readonly sleeping = new Set<() => void>();

  constructor(initial: Readonly<Record<string, readonly FaultRule[]>> = {}) {
    for (const [key, rules] of Object.entries(initial)) this.set(key, checkFaultRules(rules));
  }

  /** Replaces the rules of a key (or of `*`). */
  set(key: string, rules: readonly FaultRule[]): void {
    if (rules.length === 0) {
      this.rules.delete(key);
      return;
    }
    this.rules.set(
      key,
      rules.map((rule) => ({ rule, ...compileRoute(rule.route), remaining: rule.times, windowStart: 0, windowCount: 0 })),
    );
  }

  clear(key?: string): void {
    if (key === undefined) this.rules.clear();
    else this.rules.delete(key);
  }

  /** The rules still in force for a key, with how many uses each has left when limited. */
  get(key: string): { rule: FaultRule; remaining?: number }[] {
    return (this.rules.get(key) ?? []).map((a) => (a.remaining === undefined ? { rule: a.rule } : { rule: a.rule, remaining: a.remaining }));
  }

  /**
   * Applies the faults of `key` to a request. Returns true when the request was taken over (dropped or left
   * hanging) and must not be answered; throws the ScaleError to answer (429, 500, 503); else lets it through.
   */
  async apply(key: string, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const active = [...(this.rules.get(key) ?? []), ...(this.rules.get(ANY_KEY) ?? [])];
    if (active.length === 0) return false;
    const path = request.url.split("?")[0] ?? request.url;
    let latency = 0;
    let outcome: Outcome = { kind: "pass" };
    for (const a of active) {
      if (a.method !== null && a.method !== request.method) continue;
      if (a.path !== null && !a.path.test(path)) continue;
      if (a.remaining !== undefined) {
        if (a.remaining <= 0) continue;
        a.remaining -= 1;
      }
      latency += latencyOf(a.rule);
      if (outcome.kind === "pass") outcome = this.outcomeOf(a);
    }
    this.prune();
    if (latency > 0) await this.sleep(latency);
    switch (outcome.kind) {
      case "pass":
        return false;
      case "drop_after":
      case "malform":
        afterServe.set(request, outcome.kind);
        return false;
      case "drop":
        reply.hijack();
        request.raw.socket.destroy();
        return true;
      case "hang": {
        reply.hijack();
        const socket = request.raw.socket;
        this.hanging.add(socket);
        socket.once("close", () => this.hanging.delete(socket));
        return true;
      }
      case "error":
        throw outcome.error;
    }
  }

  /**
   * The onSend half of `drop_after` and `malform`, for requests that were served: destroys the connection instead of
   * answering, or nulls every top-level field of a successful JSON answer.
   */
  onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
    const kind = afterServe.get(request);
    if (kind === undefined) return payload;
    afterServe.delete(request);
    if (kind === "drop_after") {
      request.raw.socket.destroy();
      return payload;
    }
    if (reply.statusCode < 200 || reply.statusCode >= 300 || typeof payload !== "string") return payload;
    try {
      const value = JSON.parse(payload) as unknown;
      if (Array.isArray(value)) return JSON.stringify(value.map(() => null));
      if (value && typeof value === "object") return JSON.stringify(Object.fromEntries(Object.keys(value).map((k) => [k, null])));
      return "null";
    } catch {
      return payload;
    }
  }

  /** Ends every hang and cuts every added latency short, so that the server can close. */
  close(): void {
    for (const socket of this.hanging) socket.destroy();
    this.hanging.clear();
    for (const wake of this.sleeping) wake();
    this.sleeping.clear();
  }

  private outcomeOf(a: ActiveRule): Outcome {
    const rule = a.rule;
    if (rule.drop) return { kind: "drop" };
    if (rule.hang) return { kind: "hang" };
    if (rule.drop_after) return { kind: "drop_after" };
    if (rule.malform) return { kind: "malform" };
    if (rule.rate_limit) {
      const now = Date.now();
      if (now - a.windowStart >= rule.rate_limit.window_ms) {
        a.windowStart = now;
        a.windowCount = 0;
      }
      a.windowCount += 1;
      if (a.windowCount > rule.rate_limit.requests) {
        const headers: Record<string, string> = {};
        if (rule.rate_limit.retry_after) {
          headers["retry-after"] = String(Math.max(1, Math.ceil((a.windowStart + rule.rate_limit.window_ms - now) / 1000)));
        }
        return { kind: "error", error: new ScaleError(429, "Too Many Requests", headers) };
      }
    }
    if (rule.error_rate !== undefined && Math.random() < rule.error_rate) {
      const status = rule.error_status ?? 500;
      return { kind: "error", error: new ScaleError(status, status === 503 ? "Service Unavailable" : "Internal Server Error") };
    }
    return { kind: "pass" };
  }

  /** Forgets rules whose `times` are used up. */
  private prune(): void {
    for (const [key, list] of this.rules) {
      const live = list.filter((a) => a.remaining === undefined || a.remaining > 0);
      if (live.length === 0) this.rules.delete(key);
      else if (live.length !== list.length) this.rules.set(key, live);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping.add(wake);
    });
  }
}

function latencyOf(rule: FaultRule): number {
  const l = rule.latency_ms;
  if (l === undefined) return 0;
  if (typeof l === "number") return l;
  const [min, max] = l[0] <= l[1] ? l : [l[1], l[0]];
  return min + Math.floor(Math.random() * (max - min + 1));
}
