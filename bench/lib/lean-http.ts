import { connect, type Socket } from "node:net";

/**
 * A lean HTTP/1.1 client for benchmarks that send one fixed request over and over: keep-alive sockets with one request
 * in flight each, the request's bytes built once, responses read just far enough to know their status, length and
 * body. On these 2-core machines the load generator shares the cores with what it measures; a general-purpose client
 * (undici) spends about four times the CPU per request (~110 µs against ~25 µs), CPU that the API, the worker and
 * PostgreSQL would otherwise have. HTTP it does not need (chunked bodies, 1xx, connection: close) is refused loudly,
 * so a surprise cannot pass for a result.
 */
export interface LeanRequest {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface LeanResponse {
  readonly status: number;
  readonly body: Buffer;
}

export interface LeanConnection {
  /** Sends the request and resolves with its response (one at a time per connection). */
  send(): Promise<LeanResponse>;
  close(): void;
}

function requestBytes(request: LeanRequest): Buffer {
  const target = new URL(request.url);
  const body = Buffer.from(request.body ?? "");
  const head = [`${request.method} ${target.pathname}${target.search} HTTP/1.1`, `host: ${target.host}`, "connection: keep-alive"]
    .concat(request.body === undefined ? [] : [`content-length: ${body.length}`])
    .concat(Object.entries(request.headers).map(([k, v]) => `${k}: ${v}`))
    .join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body]);
}

/** Opens one keep-alive connection for `request`. */
export async function openLeanConnection(request: LeanRequest): Promise<LeanConnection> {
  const target = new URL(request.url);
  const bytes = requestBytes(request);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(Number(target.port), target.hostname, () => resolve(s));
    s.once("error", reject);
  });
  socket.setNoDelay(true);
  let waiting: { resolve: (r: LeanResponse) => void; reject: (e: Error) => void } | null = null;
  let pending: Buffer = Buffer.alloc(0);
  const fail = (error: Error) => {
    const w = waiting;
    waiting = null;
    w?.reject(error);
    socket.destroy();
  };
  socket.on("error", fail);
  socket.on("close", () => fail(new Error("the server closed the connection")));
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const end = pending.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = pending.subarray(0, end).toString("latin1");
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!status || !length) return fail(new Error(`a response this client cannot delimit: ${head}`));
    const size = end + 4 + Number(length[1]);
    if (pending.length < size) return;
    if (pending.length > size) return fail(new Error("a response with more bytes than one request asked for"));
    const response = { status: Number(status[1]), body: pending.subarray(end + 4, size) };
    pending = Buffer.alloc(0);
    const w = waiting;
    waiting = null;
    w?.resolve(response);
  });
  return {
    send() {
      if (waiting) return Promise.reject(new Error("one request at a time per connection"));
      return new Promise<LeanResponse>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(bytes);
      });
    },
    close() {
      socket.removeAllListeners("close");
      socket.end();
    },
  };
}

/**
 * Sends `request` `total` times over `connections` connections, each response required to have `expectStatus`, and
 * answers how many were sent. With a `signal`, sending stops once it is aborted (each connection finishes the request
 * it has in flight): `total: Infinity` with a signal is a flood that runs until stopped. With `ratePerSec`, sends are
 * held to that rate overall (request k is sent no earlier than k / ratePerSec s after the start; a connection whose
 * answer comes late sends at once, so the rate is kept up to what the connections can carry); without, each
 * connection sends its next request as soon as its answer arrives.
 */
export async function leanFlood(request: LeanRequest & { readonly total: number; readonly connections: number; readonly expectStatus: number; readonly signal?: AbortSignal; readonly ratePerSec?: number }): Promise<number> {
  const connections = await Promise.all(Array.from({ length: request.connections }, () => openLeanConnection(request)));
  let sent = 0;
  const started = performance.now();
  const aborted = () => request.signal?.aborted === true;
  try {
    await Promise.all(connections.map(async (connection) => {
      while (sent < request.total && !aborted()) {
        const index = sent++;
        if (request.ratePerSec !== undefined) {
          const wait = started + (index * 1000) / request.ratePerSec - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (aborted()) {
            sent--; // reserved, never sent
            break;
          }
        }
        const response = await connection.send();
        if (response.status !== request.expectStatus) {
          throw new Error(`unexpected response: ${response.status} ${response.body.subarray(0, 500).toString()}`);
        }
      }
    }));
    return sent;
  } finally {
    for (const connection of connections) connection.close();
  }
}
