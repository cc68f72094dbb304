// Seeds a run table in SQL (INSERT … SELECT generate_series), as a live one grows: runs of every workspace
// interleaved in creation order over 30 days, so one workspace's runs are spread across the whole heap, with the
// history indexes in place while rows arrive (their pages split as in production, not packed by a fresh build).
import pg from "pg";
import { uuidv7 } from "@nagent/db";

/** The Scale AI actions; run counts per action are skewed (the first few are the common ones). */
export const ACTIONS = [
  "SCALE_AI_ADD_STUDIO_ASSIGNMENTS", "SCALE_AI_ADD_TASK_TAGS", "SCALE_AI_CREATE_BATCH", "SCALE_AI_CREATE_DOCUMENT_TRANSCRIPTION_TASK",
  "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", "SCALE_AI_CREATE_LIDAR_ANNOTATION_TASK", "SCALE_AI_CREATE_LIDAR_SEGMENTATION_TASK",
  "SCALE_AI_CREATE_NAMED_ENTITY_RECOGNITION_TASK", "SCALE_AI_CREATE_SEGMENTATION_ANNOTATION_TASK", "SCALE_AI_CREATE_TEXT_COLLECTION_TASK",
  "SCALE_AI_CREATE_VIDEO_ANNOTATION_TASK", "SCALE_AI_CREATE_VIDEO_PLAYBACK_ANNOTATION_TASK", "SCALE_AI_DELETE_TASK_TAGS",
  "SCALE_AI_DELETE_TASK_UNIQUE_ID", "SCALE_AI_FINALIZE_BATCH", "SCALE_AI_GET_ASSETS", "SCALE_AI_GET_BATCH", "SCALE_AI_GET_BATCH_STATUS",
  "SCALE_AI_GET_FIXLESS_AUDITS", "SCALE_AI_GET_PROJECT", "SCALE_AI_GET_QUALITY_LABELERS", "SCALE_AI_GET_STUDIO_ASSIGNMENTS",
  "SCALE_AI_GET_STUDIO_BATCHES", "SCALE_AI_GET_TEAMS", "SCALE_AI_GET_V1_TASK", "SCALE_AI_GET_V1_TASK_RESPONSE_URL", "SCALE_AI_IMPORT_FILE",
  "SCALE_AI_INVITE_TEAM_MEMBER", "SCALE_AI_LIST_BATCHES", "SCALE_AI_LIST_PROJECTS", "SCALE_AI_LIST_TASKS", "SCALE_AI_POST_V1_TASK_SEND_CALLBACK",
  "SCALE_AI_REMOVE_STUDIO_ASSIGNMENTS", "SCALE_AI_RESET_BATCH_PRIORITIES", "SCALE_AI_SET_BATCH_PRIORITIES", "SCALE_AI_SET_PROJECT_ONTOLOGY",
  "SCALE_AI_SET_PROJECT_PARAMS", "SCALE_AI_SET_TASK_METADATA", "SCALE_AI_UPDATE_TASK_UNIQUE_ID", "SCALE_AI_UPLOAD_FILE",
];

/** Error codes of failed runs, repeated by weight (rate limits are the most common failure). */
const ERROR_CODES = [
  "UPSTREAM_RATE_LIMITED", "UPSTREAM_RATE_LIMITED", "UPSTREAM_RATE_LIMITED", "UPSTREAM_BAD_REQUEST", "UPSTREAM_BAD_REQUEST",
  "UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "UPSTREAM_NOT_FOUND", "UPSTREAM_CONFLICT", "UPSTREAM_UNAUTHORIZED",
];

export const HISTORY_DAYS = 30;
export const CONNECTIONS_PER_WORKSPACE = 3;

export interface SeededTable {
  readonly workspaces: readonly { readonly id: string; readonly connections: readonly string[] }[];
  readonly runs: number;
  readonly seconds: number;
}

/**
 * Inserts `workspaceCount` workspaces and `runs` runs spread uniformly at random over them, created over the last
 * HISTORY_DAYS days in order. Statuses: 90 % succeeded, 7 % failed, 1.5 % canceled, 1.2 % queued, 0.3 % running;
 * connections 70/25/5 %; 10 % of runs carry an Idempotency-Key. Deterministic (setseed), in chunks of 250,000 rows
 * so no single statement runs for minutes.
 */
export async function seedHistory(url: string, workspaceCount: number, runs: number): Promise<SeededTable> {
  const started = process.hrtime.bigint();
  const workspaces = Array.from({ length: workspaceCount }, () => ({ id: uuidv7(), connections: Array.from({ length: CONNECTIONS_PER_WORKSPACE }, () => uuidv7()) }));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO workspace (id, name) SELECT id, 'bench ' || n FROM unnest($1::uuid[]) WITH ORDINALITY AS w(id, n)`, [workspaces.map((w) => w.id)]);
    await client.query(`SELECT setseed(0.42)`);
    const startMs = Date.now() - HISTORY_DAYS * 86_400_000;
    const stepMs = (HISTORY_DAYS * 86_400_000) / runs;
    const chunk = 250_000;
    for (let from = 1; from <= runs; from += chunk) {
      await client.query(SEED_SQL, [
        workspaces.map((w) => w.id), workspaces.flatMap((w) => w.connections), ACTIONS, ERROR_CODES,
        from, Math.min(runs, from + chunk - 1), startMs, stepMs,
      ]);
    }
    await client.query(`VACUUM ANALYZE run`);
  } finally {
    await client.end();
  }
  return { workspaces, runs, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

// $1 workspace ids, $2 connection ids (CONNECTIONS_PER_WORKSPACE per workspace, in order), $3 actions, $4 error codes,
// $5..$6 the run numbers of this chunk, $7 the first run's creation (ms since the epoch), $8 ms between two runs.
// Ids are UUIDv7 of the creation millisecond, as the API makes them.
const SEED_SQL = `
INSERT INTO run (id, workspace_id, connection_id, integration, action, schema_version, status, input, output, error_code,
                 idempotency_key, attempts_count, created_at, updated_at, started_at, finished_at)
SELECT
  (lpad(to_hex(t.ms), 12, '0') || '7' || substr(t.h, 1, 3) || '8' || substr(t.h, 4, 15))::uuid,
  ($1::uuid[])[t.w + 1], ($2::uuid[])[t.w * ${CONNECTIONS_PER_WORKSPACE} + t.c + 1], 'scale_ai', t.action, 1, t.status,
  jsonb_build_object('project', 'project_' || (t.i % 50), 'name', 'batch_' || t.i, 'callback_url', 'https://example.com/hooks/' || t.h),
  CASE WHEN t.status = 'succeeded' THEN jsonb_build_object('data', jsonb_build_object('name', 'batch_' || t.i, 'project', 'project_' || (t.i % 50),
         'status', 'staging', 'created_at', t.at), 'error', NULL, 'successful', true)
       WHEN t.status IN ('failed', 'canceled') THEN jsonb_build_object('data', NULL, 'error', jsonb_build_object('code', t.error_code,
         'message', 'The upstream refused the request.', 'retryable', false), 'successful', false)
  END,
  CASE WHEN t.status IN ('failed', 'canceled') THEN t.error_code END,
  CASE WHEN t.ri < 0.1 THEN 'key-' || t.i END,
  CASE WHEN t.status = 'queued' THEN 0 ELSE 1 END,
  t.at,
  t.at + interval '1 second',
  CASE WHEN t.status <> 'queued' THEN t.at END,
  CASE WHEN t.status IN ('succeeded', 'failed', 'canceled') THEN t.at + interval '1 second' END
FROM (
  SELECT g.i, g.ms, to_timestamp(g.ms / 1000.0) AS at, md5(g.i::text) AS h,
    floor(random() * array_length($1::uuid[], 1))::int AS w,
    CASE WHEN g.rc < 0.7 THEN 0 WHEN g.rc < 0.95 THEN 1 ELSE 2 END AS c,
    ($3::text[])[1 + floor(power(random(), 2) * array_length($3::text[], 1))::int] AS action,
    CASE WHEN g.rs < 0.9 THEN 'succeeded' WHEN g.rs < 0.97 THEN 'failed' WHEN g.rs < 0.985 THEN 'canceled'
         WHEN g.rs < 0.997 THEN 'queued' ELSE 'running' END AS status,
    CASE WHEN g.rs >= 0.97 AND g.rs < 0.985 THEN 'CANCELED'
         ELSE ($4::text[])[1 + floor(random() * array_length($4::text[], 1))::int] END AS error_code,
    g.ri
  FROM (
    SELECT i, ($7::double precision + i * $8::double precision)::bigint AS ms, random() AS rs, random() AS rc, random() AS ri
    FROM generate_series($5::int, $6::int) AS i
  ) g
) t`;
