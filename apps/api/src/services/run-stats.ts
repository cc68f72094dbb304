import type pg from "pg";

/** One minute of a workspace's run history: runs created in it by status, and the latency of those that ended. */
export interface RunStatsBucket {
  minute: string;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  canceled: number;
  unknown: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface RunStats {
  window_minutes: number;
  since: string;
  total: number;
  p50_ms: number | null;
  p95_ms: number | null;
  buckets: RunStatsBucket[];
}

type BucketRow = Omit<RunStatsBucket, "minute"> & { minute: Date };

const BUCKETS_SQL = `
  WITH w AS (
    SELECT date_trunc('minute', created_at) AS minute, status,
           CASE WHEN finished_at IS NOT NULL AND started_at IS NOT NULL THEN extract(epoch FROM finished_at - started_at) * 1000 END AS ms
    FROM run WHERE workspace_id = $1 AND created_at >= $2
  )
  SELECT minute,
         count(*) FILTER (WHERE status = 'queued')::int AS queued,
         count(*) FILTER (WHERE status = 'running')::int AS running,
         count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
         count(*) FILTER (WHERE status = 'failed')::int AS failed,
         count(*) FILTER (WHERE status = 'canceled')::int AS canceled,
         count(*) FILTER (WHERE status = 'unknown')::int AS unknown,
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::int AS p50_ms,
         round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::int AS p95_ms,
         GROUPING(minute) AS whole
  FROM w GROUP BY ROLLUP (minute) ORDER BY whole, minute`;

/**
 * Run statistics for the console's charts: runs created per minute by status, and the p50/p95 of how long the ended
 * ones took (started → finished), over the last `windowMinutes` minutes (at most a day, so the scan stays on the
 * workspace's slice of the (workspace_id, created_at) index). Minutes without runs are absent.
 */
export function createRunStats(deps: { pool: pg.Pool }) {
  return {
    async stats(workspaceId: string, windowMinutes: number): Promise<RunStats> {
      const since = new Date(Math.floor(Date.now() / 60_000) * 60_000 - (windowMinutes - 1) * 60_000);
      const { rows } = await deps.pool.query<BucketRow & { whole: number }>({ name: "run-stats", text: BUCKETS_SQL, values: [workspaceId, since] });
      const buckets = rows.filter((r) => r.whole === 0).map(({ whole: _whole, minute, ...counts }) => ({ minute: minute.toISOString(), ...counts }));
      const all = rows.find((r) => r.whole === 1);
      const total = all ? all.queued + all.running + all.succeeded + all.failed + all.canceled + all.unknown : 0;
      return { window_minutes: windowMinutes, since: since.toISOString(), total, p50_ms: all?.p50_ms ?? null, p95_ms: all?.p95_ms ?? null, buckets };
    },
  };
}

export type RunStatsService = ReturnType<typeof createRunStats>;
