import type { AddressInfo } from "node:net";
import type { SandboxControl } from "./control";
import { createSandbox, type SandboxOptions } from "./runtime";

export type { SandboxControl, SettingsView } from "./control";
export type { FaultRule } from "./faults";
export type { CallbackDelivery } from "./callbacks";
export { DEFAULT_CALLBACK_RETRY_DELAYS_MS } from "./callbacks";
export { DEFAULT_CALLBACK_AUTH_KEY } from "./settings";
export { createSandbox, DEFAULT_MAX_UPLOAD_BYTES, type Sandbox, type SandboxOptions } from "./runtime";
export { maskKey } from "./ids";

/** The port `npm run sandbox` listens on by default. */
export const DEFAULT_SANDBOX_PORT = 4010;

export interface StartSandboxOptions extends SandboxOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port (tests). */
  readonly port?: number;
}

export interface RunningSandbox {
  /** The origin to use as a Scale base URL, e.g. `http://127.0.0.1:41234` (the API is under `/v1`). */
  readonly url: string;
  readonly port: number;
  /** Stops listening: hangs and pending timers end, in-flight requests finish. */
  close(): Promise<void>;
  readonly control: SandboxControl;
}

/**
 * Starts the Scale sandbox in-process on a free port (or the given one), for tests and tools:
 * `const sandbox = await startSandbox({ keys: ["test_abc"] }); … fetch(`${sandbox.url}/v1/tasks`) …`.
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? "127.0.0.1";
  const { app, control, settings } = await createSandbox(options);
  await app.listen({ host, port: options.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (options.publicUrl === undefined) settings.publicUrl = url;
  return { url, port, control, close: () => app.close() };
}
