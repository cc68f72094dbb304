import { AppError } from "@nagent/errors";
import { isTerminal, type Envelope, type RunEvent, type RunEventHub, type RunRow, type RunStatus, type RunStore, type Waiting } from "@nagent/runs";

/** One state of a run as its event stream sends it: the full current state, so a client never needs an earlier one. */
export interface RunUpdate {
  readonly id: string;
  readonly status: RunStatus;
  /** Attempts started so far (0 while the first waits in the queue). */
  readonly attempt: number;
  /** Why the run is in this state (e.g. waiting for a retry), when known. */
  readonly reason: string | null;
  /** Why a queued run waits (rate_limit, workspace_cap, retry_backoff, connection_paused), since and until when. */
  readonly waiting: Waiting | null;
  /** When the run entered this state. */
  readonly at: string;
  /** The run's envelope, in terminal states only. */
  readonly output?: Envelope | null;
}

export interface FeedListener {
  update(update: RunUpdate): void;
  /** The run reached a terminal state (sent already), or the process is closing: end the stream. */
  end(): void;
}

export interface RunFollow {
  /** Re-reads the run and sends its state if a notification was missed (the LISTEN connection dropped meanwhile). */
  recheck(): Promise<void>;
  /** Stops following (the client went away); idempotent. */
  close(): void;
}

/**
 * Whether a stream ends with this state: every terminal state but `unknown`, which stays open for the caller's
 * reconciliation (POST /v1/runs/:id/reconcile), the stream's last change.
 */
export function endsStream(status: RunStatus): boolean {
  return isTerminal(status) && status !== "unknown";
}

/**
 * A run's states in the order the state machine moves through them, so a late or duplicate notification never shows
 * an older state after a newer one: attempts only grow; within attempt n the run is running, then queued again (a
 * retry), then terminal. The first queued state has attempt 0.
 */
function order(status: RunStatus, attempt: number): number {
  const rank = status === "running" ? 1 : status === "queued" ? 2 : 3;
  return attempt * 4 + rank;
}

const fromRow = (row: RunRow): RunUpdate => ({
  id: row.id,
  status: row.status,
  attempt: row.attempts_count,
  reason: row.status_reason,
  waiting: row.status === "queued" ? row.waiting : null,
  at: row.updated_at.toISOString(),
  ...(isTerminal(row.status) ? { output: row.output } : {}),
});

/**
 * Live run states for the event stream: subscribes to the process's `RunEventHub` before reading the run (so no change
 * falls between the read and the subscription), sends the current state, then each newer state; for a terminal state
 * it reads the envelope from the store and ends. Bounded: at most `maxOpen` follows per process.
 */
export function createRunEventFeed(deps: { store: RunStore; events: RunEventHub; maxOpen: number; retryAfterSeconds?: number }) {
  const { store, events } = deps;
  const open = new Set<{ listener: FeedListener; close(): void }>();

  async function follow(workspaceId: string, runId: string, listener: FeedListener): Promise<RunFollow | null> {
    if (open.size >= deps.maxOpen) {
      throw new AppError("STREAM_LIMIT_REACHED", "Too many open run event streams on this server; retry later or poll GET /v1/runs/:id.", {
        headers: { "retry-after": String(deps.retryAfterSeconds ?? 5) },
      });
    }
    let last = -1;
    let lastReason: string | null = null;
    let started = false;
    let done = false;
    const early: RunEvent[] = [];

    const emit = (update: RunUpdate) => {
      last = order(update.status, update.attempt);
      lastReason = update.reason;
      listener.update(update);
    };
    const finishWith = async (fallback: RunUpdate) => {
      done = true;
      // The notification carries no envelope: read it (the row is committed before NOTIFY is delivered).
      const row = await store.get(workspaceId, runId).catch(() => null);
      if (!handle.closed) {
        emit(row && isTerminal(row.status) ? fromRow(row) : { ...fallback, output: null });
        listener.end();
      }
      handle.close();
    };
    const onEvent = (event: RunEvent) => {
      if (done || event.workspace_id !== workspaceId) return;
      if (!started) {
        early.push(event);
        return;
      }
      const at = order(event.status, event.attempt);
      // Older than what the client has, or the same state with nothing new to say.
      if (at < last || (at === last && event.reason === lastReason)) return;
      const update: RunUpdate = { id: event.id, status: event.status, attempt: event.attempt, reason: event.reason, waiting: event.status === "queued" ? event.waiting ?? null : null, at: event.at };
      if (endsStream(event.status)) void finishWith(update);
      else if (isTerminal(event.status)) emit({ ...update, output: event.output ?? null }); // unknown: awaits reconciliation
      else emit(update);
    };

    const unsubscribe = events.onRun(runId, onEvent);
    const handle = {
      listener,
      closed: false,
      close() {
        if (handle.closed) return;
        handle.closed = true;
        done = true;
        unsubscribe();
        open.delete(handle);
      },
    };
    open.add(handle);

    let row: RunRow | null;
    try {
      // Changes are received from here on; the state read below covers everything before.
      await events.ready();
      row = await store.get(workspaceId, runId);
    } catch (error) {
      handle.close();
      throw error;
    }
    if (!row) {
      handle.close();
      return null;
    }
    emit(fromRow(row));
    started = true;
    if (endsStream(row.status)) {
      listener.end();
      handle.close();
    } else {
      // Changes that arrived while the row was read: only those newer than the row go out.
      for (const event of early.splice(0)) onEvent(event);
    }

    return {
      async recheck() {
        if (done) return;
        const current = await store.get(workspaceId, runId).catch(() => null);
        if (done || !current || order(current.status, current.attempts_count) <= last) return;
        if (endsStream(current.status)) {
          done = true;
          emit(fromRow(current));
          listener.end();
          handle.close();
        } else {
          emit(fromRow(current));
        }
      },
      close: handle.close,
    };
  }

  return {
    follow,
    /** Follows open in this process (a gauge on /metrics). */
    openCount: (): number => open.size,
    /** Ends every stream (the process is closing), so a graceful shutdown is not held by clients that never leave. */
    endAll(): void {
      for (const handle of [...open]) {
        handle.listener.end();
        handle.close();
      }
    },
  };
}

export type RunEventFeed = ReturnType<typeof createRunEventFeed>;
