import http from "node:http";
import { bearer } from "./app";

export interface RunEventStream<Event> {
  readonly res: http.IncomingMessage;
  /** The `data:` of each frame, parsed, as they came (a 200 stream only). */
  readonly events: Event[];
  /** Each frame as sent, without its closing blank line. */
  readonly frames: string[];
  /** Resolves when the server ends the stream (or the test closes it). */
  readonly finished: Promise<void>;
  ended(): boolean;
  /** The body of an answer other than 200 (an error envelope). */
  text(): string;
  close(): void;
}

/**
 * Opens a run's event stream (`GET /v1/runs/:id/events`) over real HTTP at `origin` and collects its events as they
 * come. node:http without an agent: one socket per stream, gone when the test closes it (fetch's pool may open a
 * spare socket the server then waits for).
 */
export async function followRunEvents<Event = unknown>(origin: string, runId: string, apiKey: string, headers: Record<string, string> = {}): Promise<RunEventStream<Event>> {
  const events: Event[] = [];
  const frames: string[] = [];
  let text = "";
  let ended = false;
  let request!: http.ClientRequest;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = () => {
      ended = true;
      resolve();
    };
  });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    request = http.get(`${origin}/v1/runs/${runId}/events`, { agent: false, headers: { ...bearer(apiKey), ...headers } }, resolve);
    request.on("error", reject);
  });
  request.on("error", () => {}); // the test's own close
  let buffer = "";
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => {
    if (res.statusCode !== 200) {
      text += chunk;
      return;
    }
    buffer += chunk;
    for (let i = buffer.indexOf("\n\n"); i >= 0; i = buffer.indexOf("\n\n")) {
      const frame = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      frames.push(frame);
      const data = frame.split("\n").find((line) => line.startsWith("data: "));
      if (data) events.push(JSON.parse(data.slice(6)) as Event);
    }
  });
  res.on("end", done);
  res.on("close", done);
  return { res, events, frames, finished, ended: () => ended, text: () => text, close: () => request.destroy() };
}
