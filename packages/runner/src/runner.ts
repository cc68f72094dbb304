import { Agent, type Dispatcher } from "undici";
import type { ActionRunSpec, AuthApply, AuthSpec } from "@nagent/registry";
import { buildRequest, fillTemplate, type UpstreamRequest } from "./build-request";
import { classifyStatus, classifyTransportError, parseRetryAfter, statusMayHaveReachedUpstream, transportMayHaveReachedUpstream, upstreamMessage, type EnvelopeError } from "./classify";
import { checkOutboundUrl, createEgressLookup, type EgressPolicy } from "./egress";
import { readJsonPointer } from "./json-pointer";

export interface RunnerOptions {
  /** Deadline of one upstream call, connect to last byte. */
  readonly timeoutMs: number;
  readonly egress: EgressPolicy;
  /** Largest upstream answer read (default 16 MiB); larger ones fail with UPSTREAM_RESPONSE_TOO_LARGE. */
  readonly maxResponseBytes?: number;
  /** Keep-alive connections per upstream origin (default 128). */
  readonly connectionsPerOrigin?: number;
}

/** What one upstream call produced: the answer for the envelope's `data`, or the envelope's `error`. */
export type CallResult =
  | { readonly ok: true; readonly status: number; readonly data: unknown; readonly latencyMs: number; readonly recoveredFromConflict?: boolean }
  | {
      readonly ok: false;
      readonly error: EnvelopeError;
      readonly retryAfterMs?: number;
      readonly latencyMs: number;
      /**
       * True when the upstream may have acted on the request although we heard no answer (a timeout after sending, a
       * dropped connection, a 504): repeating a write that is not idempotent could then do it twice.
       */
      readonly mayHaveReached?: boolean;
    };

export interface ExecuteCall {
  /** The action's wire mapping and its integration's auth, from the registry. */
  readonly spec: Pick<ActionRunSpec, "http" | "params" | "response" | "on_conflict" | "auth"> & { readonly reconcile?: ActionRunSpec["reconcile"] };
  readonly input: Readonly<Record<string, unknown>>;
  /** The opened credentials; used for this call only, never kept. */
  readonly credentials: Readonly<Record<string, string>>;
  readonly baseUrl: string;
  /** True when an earlier attempt of the same run may have reached the upstream (then a 409 may be our own). */
  readonly mayHaveReachedUpstream: boolean;
}

const USER_AGENT = "nagent-integrations/0.1";

/**
 * Calls upstream APIs for actions, over one pooled keep-alive HTTP client. Knows HTTP and the manifest; nothing of
 * PostgreSQL, queues or retries over time (the worker decides when to try again from `retryable`/`retryAfterMs`).
 */
export function createRunner(options: RunnerOptions) {
  const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const agent = new Agent({
    connections: options.connectionsPerOrigin ?? 128,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: Math.min(10_000, options.timeoutMs), lookup: createEgressLookup(options.egress) },
  });

  async function send(req: UpstreamRequest, auth: AuthApply, credentials: Readonly<Record<string, string>>, responseKind: "json" | "any"): Promise<CallResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    const target = checkOutboundUrl(req.url, options.egress);
    if (!target.ok) return { ok: false, error: { code: "EGRESS_BLOCKED", message: `The upstream URL ${target.reason}.`, retryable: false }, latencyMs: 0 };
    try {
      const res = await call(agent, req.url, { method: req.method, headers: { ...req.headers, ...authHeaders(auth, credentials), "user-agent": USER_AGENT }, body: req.body ?? null }, maxBytes, options.timeoutMs);
      const bytes = res.body;
      if (bytes === null) {
        return { ok: false, error: { code: "UPSTREAM_RESPONSE_TOO_LARGE", message: `The upstream answer is larger than ${maxBytes} bytes.`, retryable: false, upstream_status: res.statusCode }, latencyMs: latency() };
      }
      const contentType = String(res.headers["content-type"] ?? "");
      const parsed = parseBody(bytes, contentType);
      if (res.statusCode >= 200 && res.statusCode < 300) {
        if (parsed.kind === "json") return { ok: true, status: res.statusCode, data: parsed.value, latencyMs: latency() };
        if (bytes.length === 0) return { ok: true, status: res.statusCode, data: null, latencyMs: latency() };
        if (responseKind === "any") {
          return { ok: true, status: res.statusCode, data: { content_type: contentType || "application/octet-stream", size: bytes.length, content_base64: bytes.toString("base64") }, latencyMs: latency() };
        }
        return { ok: false, error: { code: "UPSTREAM_INVALID_RESPONSE", message: "The upstream answered with a body that is not JSON.", retryable: false, upstream_status: res.statusCode }, latencyMs: latency() };
      }
      const error = classifyStatus(res.statusCode, upstreamMessage(parsed.kind === "json" ? parsed.value : bytes.toString("utf8").slice(0, 2000)));
      const retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
      const mayHaveReached = statusMayHaveReachedUpstream(res.statusCode);
      return retryAfterMs === undefined ? { ok: false, error, latencyMs: latency(), mayHaveReached } : { ok: false, error, retryAfterMs, latencyMs: latency(), mayHaveReached };
    } catch (err) {
      return { ok: false, error: classifyTransportError(err), latencyMs: latency(), mayHaveReached: transportMayHaveReachedUpstream(err) };
    }
  }

  return {
    /** Performs one attempt of an action. */
    async execute(call: ExecuteCall): Promise<CallResult> {
      const req = buildRequest(call.spec, call.input, call.baseUrl);
      const result = await send(req, call.spec.auth.apply, call.credentials, call.spec.response);
      const conflict = call.spec.on_conflict;
      if (result.ok || result.error.upstream_status !== 409 || !conflict || !call.mayHaveReachedUpstream) return result;
      if (call.input[conflict.when_input] === undefined) return result;
      // A retry met 409: the lost first attempt probably created the resource. Find it, as Scale's own SDK does.
      const lookup = conflict.lookup;
      const url = new URL(call.baseUrl.replace(/\/+$/, "") + fillTemplate(lookup.path, call.input, true));
      for (const [key, template] of Object.entries(lookup.query ?? {})) url.searchParams.append(key, fillTemplate(template, call.input, false));
      const found = await send({ method: lookup.method, url: url.toString(), headers: { accept: "application/json" } }, call.spec.auth.apply, call.credentials, "json");
      if (!found.ok) return result;
      const data = readJsonPointer(found.data, lookup.result_pointer);
      if (data === undefined || data === null) return result;
      const reconcile = call.spec.reconcile;
      if (reconcile !== undefined && typeof reconcile === "object" && reconcile.by === "read_back") {
        // The name is taken, but perhaps by someone else's object: ours only if it matches what we asked for.
        const differs = Object.entries(reconcile.compare).filter(([name, pointer]) =>
          call.input[name] !== undefined && canonical(readJsonPointer(data, pointer)) !== canonical(call.input[name]));
        if (differs.length > 0) {
          const names = differs.map(([name]) => name).join(", ");
          return { ...result, error: { ...result.error, message: `${result.error.message} The existing object differs from this request (${names}): it is not the one this run created.` } };
        }
      }
      return { ok: true, status: found.status, data, latencyMs: result.latencyMs + found.latencyMs, recoveredFromConflict: true };
    },

    /** The integration's cheap credentials check (connection create and test). */
    async check(auth: Pick<AuthSpec, "apply" | "check">, credentials: Readonly<Record<string, string>>, baseUrl: string): Promise<CallResult> {
      const { check, apply } = auth;
      const result = await send({ method: check.method, url: baseUrl.replace(/\/+$/, "") + check.path, headers: { accept: "application/json" } }, apply, credentials, "json");
      if (result.ok && !check.expect_status.includes(result.status)) {
        return { ok: false, error: { code: "UPSTREAM_BAD_REQUEST", message: `The check answered ${result.status}.`, retryable: false, upstream_status: result.status }, latencyMs: result.latencyMs };
      }
      return result;
    },

    async close(): Promise<void> {
      await agent.close();
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;

/** JSON with sorted keys, to compare a read-back value with the input that should have produced it. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

export function authHeaders(apply: AuthApply, credentials: Readonly<Record<string, string>>): Record<string, string> {
  switch (apply.type) {
    case "basic":
      return { authorization: `Basic ${Buffer.from(`${credentials[apply.username] ?? ""}:`).toString("base64")}` };
    case "bearer":
      return { authorization: `Bearer ${credentials[apply.token] ?? ""}` };
    case "header":
      return { [apply.name.toLowerCase()]: credentials[apply.value] ?? "" };
  }
}

/** An upstream answer: its status, headers and body (null: larger than the bound, not read to its end). */
interface RawResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer | null;
}

/**
 * One HTTP exchange on the agent's keep-alive pool, through undici's handler API (`Dispatcher.dispatch`): the body is
 * gathered into one buffer, at most `maxBytes` (beyond, the exchange is aborted and `body` is null), and the whole
 * exchange, queueing included, must end within `timeoutMs` (beyond, it fails with a TimeoutError). Rejects with
 * undici's transport error (connect, socket, timeouts), which `classifyTransportError` reads.
 *
 * Measured against undici's `request()` with the same agent (a 20-byte JSON answer on loopback, reading the whole
 * body either way): 20–22 µs of the caller's CPU a call against 61–62 at 64 concurrent calls, 79–96 µs against
 * 153–184 one at a time. `request()` wraps every answer in a Readable stream read by async iteration, an
 * AsyncResource and an AbortSignal listener; none of which a call that reads the whole (bounded) body needs.
 */
function call(agent: Agent, url: string, request: { method: string; headers: Record<string, string>; body: NonNullable<UpstreamRequest["body"]> | null }, maxBytes: number, timeoutMs: number): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise<RawResponse>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let reason: Error | null = null;
    let statusCode = 0;
    let headers: RawResponse["headers"] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const abort = (why: Error) => {
      reason ??= why;
      controller?.abort(why); // before the request is written, onRequestStart aborts it
    };
    // A timer cleared when the call ends, not AbortSignal.timeout(): that one lives for the full timeout after the
    // call (tens of thousands of live timers at a few thousand calls a second).
    const timer = setTimeout(() => abort(new DOMException("The upstream did not answer in time.", "TimeoutError")), timeoutMs);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (reason) c.abort(reason);
      },
      onResponseStart(_c, status, responseHeaders) {
        if (status < 200) return; // 1xx: informational, the answer follows
        statusCode = status;
        headers = responseHeaders;
      },
      onResponseData(_c, chunk) {
        if (tooLarge) return;
        size += chunk.length;
        if (size > maxBytes) {
          tooLarge = true;
          abort(new Error("The upstream answer is larger than the bound."));
        } else {
          chunks.push(chunk);
        }
      },
      onResponseEnd() {
        clearTimeout(timer);
        resolve({ statusCode, headers, body: tooLarge ? null : Buffer.concat(chunks, size) });
      },
      onResponseError(_c, error) {
        clearTimeout(timer);
        if (tooLarge) resolve({ statusCode, headers, body: null });
        else reject(error);
      },
    };
    try {
      agent.dispatch({ origin: target.origin, path: target.pathname + target.search, method: request.method as Dispatcher.HttpMethod, headers: request.headers, body: request.body }, handler);
    } catch (error) {
      clearTimeout(timer);
      reject(error);
    }
  });
}

function parseBody(bytes: Buffer, contentType: string): { kind: "json"; value: unknown } | { kind: "other" } {
  if (bytes.length === 0) return { kind: "other" };
  const looksJson = /\bjson\b/i.test(contentType) || (!contentType && /^\s*[[{"]/.test(bytes.subarray(0, 16).toString("utf8")));
  if (!looksJson) return { kind: "other" };
  try {
    return { kind: "json", value: JSON.parse(bytes.toString("utf8")) };
  } catch {
    return { kind: "other" };
  }
}
