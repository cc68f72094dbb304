import type { PgListener } from "@nagent/db";
import { RUN_EVENTS_CHANNEL, isTerminal, type RunEvent } from "./types";

type Handler = (event: RunEvent) => void;

/**
 * Run state changes (PostgreSQL NOTIFY on RUN_EVENTS_CHANNEL, sent on commit) fanned out to subscribers of a run or
 * of a workspace, over the process's shared LISTEN connection. Subscribers that must not miss a state (sync waits,
 * event streams) also re-read the row on a timer, for notifications lost while the connection was down.
 */
export function createRunEventHub(options: { listener: PgListener }) {
  const byRun = new Map<string, Set<Handler>>();
  const byWorkspace = new Map<string, Set<Handler>>();

  const dispatch = (payload: string) => {
    let event: RunEvent;
    try {
      event = JSON.parse(payload) as RunEvent;
    } catch {
      return;
    }
    for (const h of byRun.get(event.id) ?? []) h(event);
    for (const h of byWorkspace.get(event.workspace_id) ?? []) h(event);
  };
  // The channel is followed only while someone here waits for a run (see createPgListener): a process that only
  // accepts async runs does not receive every state change of every run.
  let subscribers = 0;
  let unlisten: (() => void) | null = null;

  const add = (map: Map<string, Set<Handler>>, key: string, handler: Handler) => {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(handler);
    if (subscribers++ === 0) unlisten = options.listener.listen(RUN_EVENTS_CHANNEL, dispatch);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      set!.delete(handler);
      if (set!.size === 0) map.delete(key);
      if (--subscribers === 0) {
        unlisten?.();
        unlisten = null;
      }
    };
  };

  return {
    /** Resolves once state changes are being received (await it after subscribing, before reading the state). */
    ready(): Promise<void> {
      return options.listener.ready(RUN_EVENTS_CHANNEL);
    },
    onRun(runId: string, handler: Handler): () => void {
      return add(byRun, runId, handler);
    },
    onWorkspace(workspaceId: string, handler: Handler): () => void {
      return add(byWorkspace, workspaceId, handler);
    },
    /**
     * Starts watching a run for its terminal event. Create the watch before the run can end (e.g. before enqueueing
     * it) so no event is missed; then `terminal(timeoutMs, check)` resolves with the terminal event, or null when
     * `timeoutMs` passes first. `check` reads the run's current status: it runs on a slow timer as a safety net for
     * notifications lost while the LISTEN connection was down (and once at once with `checkNow`). `cancel()` stops
     * watching without waiting.
     */
    watch(runId: string): RunWatch {
      let terminalEvent: RunEvent | null = null;
      let notify: (() => void) | null = null;
      const unsubscribe = add(byRun, runId, (event) => {
        if (!isTerminal(event.status)) return;
        terminalEvent = event;
        notify?.();
      });
      return {
        terminal(timeoutMs, check, options = {}) {
          return new Promise<RunEvent | null | "ended">((resolve) => {
            let done = false;
            // Declared before `finish` can run: the run may have ended before this wait began (its event is then
            // already here, and `finish` runs at once, before any timer exists).
            let timer: NodeJS.Timeout | undefined;
            let poll: NodeJS.Timeout | undefined;
            const finish = (value: RunEvent | null | "ended") => {
              if (done) return;
              done = true;
              unsubscribe();
              clearTimeout(timer);
              clearInterval(poll);
              resolve(value);
            };
            notify = () => finish(terminalEvent);
            if (terminalEvent) return finish(terminalEvent);
            const recheck = () => {
              check().then((status) => {
                if (status === null || isTerminal(status)) finish("ended");
              }, () => {});
            };
            timer = setTimeout(() => finish(null), timeoutMs);
            poll = setInterval(recheck, 1_000);
            if (options.checkNow) recheck();
          });
        },
        cancel: unsubscribe,
      };
    },
    /** Stops dispatching (the shared listener is closed by its owner). */
    close(): void {
      unlisten?.();
      unlisten = null;
    },
  };
}

export type RunEventHub = ReturnType<typeof createRunEventHub>;

export interface RunWatch {
  /**
   * The run's terminal event; `"ended"` when `check` found the run ended without the event (then read the run);
   * null on timeout.
   */
  terminal(timeoutMs: number, check: () => Promise<string | null>, options?: { checkNow?: boolean }): Promise<RunEvent | null | "ended">;
  cancel(): void;
}
