import { openLeanConnection, type LeanRequest } from "../lib/lean-http";
import { percentile } from "../lib/stats";

/**
 * The two HTTP clients a figure is measured with, each making the same two calls, one at a time:
 * - **lean** (`bench/lib/lean-http`): ~25 µs of CPU per call, so the platform's own cost shows; on these 2 cores the
 *   load generator shares the CPU with what it measures.
 * - **fetch**: Node's global `fetch` (undici) with its default keep-alive, as an agent written in Node would call the
 *   API; ~110 µs of CPU per call, and what a real caller sees.
 * Both read and parse every response body, on the direct call (a) as on the execute call (c), so an overhead of (c)
 * over (a) compares like with like within one client.
 */
export type ClientName = "lean" | "fetch";
export const CLIENTS: readonly ClientName[] = ["lean", "fetch"];

/** Sends the request once; throws unless the answer is the expected one. */
export type Call = () => Promise<void>;

export interface ClientCalls {
  readonly call: Record<ClientName, Call>;
  close(): void;
}

/** Opens both clients for `request`; `check` judges each answer (status and parsed body). */
export async function openClients(request: LeanRequest, check: (status: number, body: unknown) => string | null): Promise<ClientCalls> {
  const connection = await openLeanConnection(request);
  const verify = (status: number, body: unknown) => {
    const problem = check(status, body);
    if (problem !== null) throw new Error(`${request.method} ${request.url}: ${problem}`);
  };
  const init: RequestInit = { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) };
  return {
    call: {
      lean: async () => {
        const res = await connection.send();
        verify(res.status, JSON.parse(res.body.toString()));
      },
      fetch: async () => {
        const res = await fetch(request.url, init);
        verify(res.status, await res.json());
      },
    },
    close: () => connection.close(),
  };
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

/**
 * Times every call of `calls` `rounds` times, after `warmup` unmeasured rounds. Each round makes each call once, one
 * after another, in an order rotated from round to round, so that machine noise (another process, a collection, a
 * checkpoint) falls on every call alike and no call always follows the same one. Answers p50/p99 in ms per call.
 * Stops early (with fewer samples) once `keepGoing` answers false.
 */
export async function sampleInterleaved<K extends string>(calls: Readonly<Record<K, Call>>, rounds: number, warmup: number, keepGoing: () => boolean = () => true): Promise<Record<K, Latency>> {
  const names = Object.keys(calls) as K[];
  const times = new Map<K, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < warmup + rounds && keepGoing(); round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      const started = performance.now();
      await calls[name]();
      if (round >= warmup) times.get(name)!.push(performance.now() - started);
    }
  }
  return Object.fromEntries(names.map((name) => {
    const t = times.get(name)!;
    return [name, { p50: percentile(t, 50), p99: percentile(t, 99), n: t.length }];
  })) as Record<K, Latency>;
}
