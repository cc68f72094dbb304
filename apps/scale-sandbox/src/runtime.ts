import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { buildSandboxApp } from "./app";
import { CallbackSender, DEFAULT_CALLBACK_RETRY_DELAYS_MS } from "./callbacks";
import { KEY_PATTERN, createControl, type SandboxControl } from "./control";
import type { SandboxDeps } from "./deps";
import { FaultInjector, type FaultRule } from "./faults";
import { Lifecycle } from "./lifecycle";
import { DEFAULT_CALLBACK_AUTH_KEY, type Settings } from "./settings";
import { Store } from "./state";
import { RequestStats } from "./stats";
import { Timers } from "./timers";

/** Scale's upload limit per file. */
export const DEFAULT_MAX_UPLOAD_BYTES = 80 * 1024 * 1024;

/** How the sandbox behaves; every field is optional. */
export interface SandboxOptions {
  /** API keys accepted from the start (`live_…` or `test_…`), each its own world. More through the control API. */
  readonly keys?: readonly string[];
  /** Sent as `scale-callback-auth` on callbacks. Default: a fixed development value, DEFAULT_CALLBACK_AUTH_KEY. */
  readonly callbackAuthKey?: string;
  /** Live tasks complete by themselves after this many ms; null/omitted = only through the control API. */
  readonly liveCompletionDelayMs?: number | null;
  /** Delays before each callback retry (one retry per entry). Default: 20 retries, 5 s doubling up to 2 h. */
  readonly callbackRetryDelaysMs?: readonly number[];
  /** How long one callback attempt may take before it counts as failed. Default 10 s. */
  readonly callbackTimeoutMs?: number;
  /** Fault rules per key (`*` = every key), as the control API takes them. */
  readonly faults?: Readonly<Record<string, readonly FaultRule[]>>;
  /** Largest upload accepted. Default 80 MB, as on Scale. */
  readonly maxUploadBytes?: number;
  /** Logging; off by default. */
  readonly logger?: FastifyBaseLogger | { readonly level: string };
  /** The origin clients use, for the URLs the sandbox hands out. Default: the address it listens on. */
  readonly publicUrl?: string;
}

export interface Sandbox {
  readonly app: FastifyInstance;
  readonly control: SandboxControl;
  readonly settings: Settings;
}

/** Wires the sandbox's parts once (the composition root) and builds its app, without listening. */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  for (const key of options.keys ?? []) {
    if (!KEY_PATTERN.test(key)) throw new Error("Sandbox keys must look like live_… or test_… (letters, digits, _ and -).");
  }
  const settings: Settings = {
    callbackAuthKey: options.callbackAuthKey ?? DEFAULT_CALLBACK_AUTH_KEY,
    liveCompletionDelayMs: options.liveCompletionDelayMs ?? null,
    publicUrl: options.publicUrl ?? "http://127.0.0.1:4010",
  };
  const timers = new Timers();
  const store = new Store(options.keys ?? []);
  store.onReset((world) => timers.cancel(world));
  const callbacks = new CallbackSender({
    authKey: () => settings.callbackAuthKey,
    retryDelaysMs: options.callbackRetryDelaysMs ?? DEFAULT_CALLBACK_RETRY_DELAYS_MS,
    timeoutMs: options.callbackTimeoutMs ?? 10_000,
    timers,
  });
  const deps: SandboxDeps = {
    store,
    lifecycle: new Lifecycle({ timers, callbacks, settings }),
    callbacks,
    faults: new FaultInjector(options.faults),
    stats: new RequestStats(),
    settings,
    timers,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
  };
  const control = createControl(deps);
  const app = await buildSandboxApp(deps, control, options.logger === undefined ? {} : { logger: options.logger });
  return { app, control, settings };
}
