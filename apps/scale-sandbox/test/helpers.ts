// Shared by the sandbox's own tests: a started sandbox, a small HTTP client that speaks to it as Scale's clients
// do (Basic auth, JSON), and a local receiver for callbacks.
import { afterAll, beforeAll } from "vitest";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from "../src/index";

export interface Answer<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface CallOptions {
  /** Raw body text (sent as is, with content-type json unless `contentType` says otherwise). */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
  readonly contentType?: string | null;
  readonly signal?: AbortSignal;
}

/** A client bound to one key (or none); `body` is sent as JSON. `base` may be read at each call (see sandboxForFile). */
export function client(base: string | (() => string), key: string | null) {
  const auth: Record<string, string> = key === null ? {} : { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` };
  async function call<T = any>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<Answer<T>> {
    const contentType = options.contentType === undefined ? "application/json" : options.contentType;
    const headers: Record<string, string> = { ...auth, ...(contentType === null ? {} : { "content-type": contentType }), ...options.headers };
    const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const response = await fetch(`${typeof base === "string" ? base : base()}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }), ...(options.signal ? { signal: options.signal } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }
  return {
    call,
    get: <T = any>(path: string, options?: CallOptions) => call<T>("GET", path, undefined, options),
    post: <T = any>(path: string, body?: unknown, options?: CallOptions) => call<T>("POST", path, body, options),
    put: <T = any>(path: string, body?: unknown, options?: CallOptions) => call<T>("PUT", path, body, options),
    del: <T = any>(path: string, body?: unknown, options?: CallOptions) => call<T>("DELETE", path, body, options),
  };
}

export type Client = ReturnType<typeof client>;

/** Starts a sandbox with fast callback retries; close it in afterAll. */
export async function sandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  return startSandbox({ callbackRetryDelaysMs: [10, 20, 40, 80], callbackTimeoutMs: 2_000, ...options });
}

/**
 * One sandbox for a test file: started (as `sandbox` starts it) before the file's tests and closed after them.
 * Its `url`, `control` and the clients `client(key)` makes are for use inside the tests, once it has started.
 */
export function sandboxForFile(options: StartSandboxOptions = {}) {
  let started: RunningSandbox | undefined;
  beforeAll(async () => {
    started = await sandbox(options);
  });
  afterAll(async () => {
    await started?.close();
  });
  const running = (): RunningSandbox => {
    if (!started) throw new Error("The sandbox starts in beforeAll: use it inside a test.");
    return started;
  };
  return {
    get url() { return running().url; },
    get control() { return running().control; },
    client: (key: string | null) => client(() => running().url, key),
  };
}

/** Retries an assertion until it passes (state that changes asynchronously), failing after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 15));
    }
  }
}

export interface ReceivedCallback {
  readonly headers: IncomingHttpHeaders;
  readonly body: any;
}

/** A local callback receiver; answers each request with the next status of `statuses` (then 200). */
export async function callbackReceiver(statuses: number[] = []) {
  const received: ReceivedCallback[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const queue = [...statuses];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") });
      res.statusCode = queue.shift() ?? 200;
      res.end("ok");
      for (const w of [...waiters]) if (received.length >= w.count) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    received,
    /** Resolves once `count` callbacks have arrived in all. */
    waitFor(count: number): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const IMAGE_TASK = {
  attachment: "https://example.com/cat.png",
  geometries: { box: { objects_to_annotate: ["cat"] } },
};
