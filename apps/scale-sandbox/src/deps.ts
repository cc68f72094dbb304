import type { CallbackSender } from "./callbacks";
import type { FaultInjector } from "./faults";
import type { Lifecycle } from "./lifecycle";
import type { Settings } from "./settings";
import type { Store } from "./state";
import type { RequestStats } from "./stats";
import type { Timers } from "./timers";

/** What the sandbox app is built from; `createSandboxDeps` (runtime.ts) wires them once. */
export interface SandboxDeps {
  readonly store: Store;
  readonly lifecycle: Lifecycle;
  readonly callbacks: CallbackSender;
  readonly faults: FaultInjector;
  readonly stats: RequestStats;
  readonly settings: Settings;
  readonly timers: Timers;
  /** Largest file `POST /v1/files/upload` accepts (Scale: 80 MB). */
  readonly maxUploadBytes: number;
}
