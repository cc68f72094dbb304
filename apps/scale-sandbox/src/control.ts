import type { CallbackDelivery } from "./callbacks";
import type { SandboxDeps } from "./deps";
import { badRequest, notFound } from "./errors";
import { objectId } from "./ids";
import { ANY_KEY, checkFaultRules, type FaultRule } from "./faults";
import type { World } from "./state";
import { taskView } from "./task-view";
import { compileCheck } from "./validate";

/** Keys as Scale issues them (and as SANDBOX_KEYS takes them): `live_…` or `test_…`. */
export const KEY_PATTERN = /^(live|test)_[A-Za-z0-9_-]{1,200}$/;

const checkAttempts = compileCheck<Record<string, unknown>[]>({
  type: "array",
  maxItems: 10_000,
  items: {
    type: "object",
    required: ["labeler_email", "quality_task_id"],
    properties: { id: { type: "string", minLength: 1, maxLength: 64 }, labeler_email: { type: "string" }, quality_task_id: { type: "string" } },
  },
});

/** Settings as the control API shows and takes them. */
export interface SettingsView {
  readonly callback_auth_key: string;
  readonly live_completion_delay_ms: number | null;
}

/**
 * What tests and operators do to a running sandbox, in-process (`startSandbox().control`) or over HTTP
 * (`/sandbox/...`, see routes/control.ts): keys, faults, task outcomes, seeds, resets and inspection.
 */
export interface SandboxControl {
  /** Accepts a new key (its own empty world); false when it was already accepted. */
  addKey(key: string): boolean;
  /** Stops accepting a key and drops its world; false when it was not accepted. */
  removeKey(key: string): boolean;
  keys(): string[];
  /** Replaces the fault rules of a key, or of every key with `*`. */
  setFaults(key: string, rules: readonly FaultRule[]): void;
  /** Clears the faults of a key, or all faults. */
  clearFaults(key?: string): void;
  faults(key: string): { rule: FaultRule; remaining?: number }[];
  /** Completes a pending task (with this response, or a plausible one) and fires its callback. */
  completeTask(taskId: string, response?: Record<string, unknown>): Record<string, unknown>;
  /** Moves a task to `error` (attachment failure) and fires its callback. */
  errorTask(taskId: string, message?: string, response?: Record<string, unknown>): Record<string, unknown>;
  /** Accepts pending invitations of a key's team (all, or the given emails); returns how many were accepted. */
  acceptInvitations(key: string, emails?: readonly string[]): number;
  /** Seeds labeler training attempts for GET /v1/quality/labelers; returns how many the key now has. */
  addQualityAttempts(key: string, attempts: readonly Record<string, unknown>[]): number;
  /**
   * Empties the world and request counts of a key, or of every key (then the callback log too). Keys, faults and
   * settings stay.
   */
  reset(key?: string): void;
  requestCounts(key: string): { total: number; routes: Record<string, number> };
  callbacks(taskId?: string): CallbackDelivery[];
  settings(): SettingsView;
  updateSettings(update: { callback_auth_key?: string; live_completion_delay_ms?: number | null }): SettingsView;
}

export function createControl(deps: SandboxDeps): SandboxControl {
  const worldFor = (key: string): World => {
    const world = deps.store.world(key);
    if (!world) throw notFound("Unknown key.");
    return world;
  };
  const findTask = (taskId: string) => {
    const found = deps.store.findTask(taskId);
    if (!found) throw notFound(`Task ${taskId} not found.`);
    return found;
  };
  const settingsView = (): SettingsView => ({
    callback_auth_key: deps.settings.callbackAuthKey,
    live_completion_delay_ms: deps.settings.liveCompletionDelayMs,
  });

  return {
    addKey(key) {
      if (!KEY_PATTERN.test(key)) throw badRequest("A key must look like live_… or test_… (letters, digits, _ and -).");
      return deps.store.addKey(key);
    },
    removeKey(key) {
      deps.faults.clear(key);
      deps.stats.clear(key);
      return deps.store.removeKey(key);
    },
    keys: () => deps.store.keys(),
    setFaults(key, rules) {
      if (key !== ANY_KEY) worldFor(key);
      deps.faults.set(key, checkFaultRules(rules));
    },
    clearFaults: (key) => deps.faults.clear(key),
    faults: (key) => deps.faults.get(key),
    completeTask(taskId, response) {
      const { world, task } = findTask(taskId);
      deps.lifecycle.complete(world, task, response);
      return taskView(task, world.mode === "test");
    },
    errorTask(taskId, message, response) {
      const { world, task } = findTask(taskId);
      deps.lifecycle.fail(world, task, message, response);
      return taskView(task, world.mode === "test");
    },
    acceptInvitations(key, emails) {
      let accepted = 0;
      for (const mate of worldFor(key).team.values()) {
        if (mate.expiry === undefined || (emails !== undefined && !emails.includes(mate.email))) continue;
        mate.expiry = undefined;
        accepted += 1;
      }
      return accepted;
    },
    addQualityAttempts(key, attempts) {
      const world = worldFor(key);
      for (const attempt of checkAttempts(attempts)) world.qualityAttempts.push({ id: objectId(), ...attempt });
      return world.qualityAttempts.length;
    },
    reset(key) {
      if (key !== undefined) worldFor(key);
      deps.store.reset(key);
      deps.stats.clear(key);
      if (key === undefined) deps.callbacks.clear();
    },
    requestCounts: (key) => deps.stats.of(key),
    callbacks: (taskId) => deps.callbacks.list(taskId),
    settings: settingsView,
    updateSettings(update) {
      const delay = update.live_completion_delay_ms;
      if (delay !== undefined && delay !== null && (!Number.isInteger(delay) || delay < 0)) {
        throw badRequest("live_completion_delay_ms must be a non-negative integer or null.");
      }
      if (update.callback_auth_key !== undefined) {
        if (typeof update.callback_auth_key !== "string" || update.callback_auth_key === "" || update.callback_auth_key.length > 512) {
          throw badRequest("callback_auth_key must be a non-empty string of at most 512 characters.");
        }
        deps.settings.callbackAuthKey = update.callback_auth_key;
      }
      if (delay !== undefined) deps.settings.liveCompletionDelayMs = delay;
      return settingsView();
    },
  };
}

