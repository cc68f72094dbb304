// The floor of an async execute's worker side (bench/execute/floor): a BullMQ worker that claims the run, calls the
// upstream (undici, keep-alive) and records the answer, with the run store's batching (one UPDATE per batch for the
// claims, one for the finishes, durable commits). No admission, no vault, no retries, no output check: what any
// design that runs a recorded run from a queue must do at least. Not part of the product. A job holds one run, or
// (FLOOR_JOBS=batch, see api.ts) the ids of a batch, run side by side.
import pg from "pg";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { Pool as HttpPool } from "undici";
import { createBatcher } from "@nagent/batch";

const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
const pool = new pg.Pool({ connectionString: env("DATABASE_URL"), max: 4 });
const upstream = new HttpPool(env("UPSTREAM_URL"), { connections: 64 });
const authorization = `Basic ${Buffer.from(`${env("UPSTREAM_KEY")}:`).toString("base64")}`;

const claim = createBatcher<string, true>(async (ids) => {
  await pool.query({ name: "floor-claim", text: "UPDATE floor_run SET status = 'running', updated_at = now() WHERE id = ANY($1::uuid[]) AND status = 'queued'", values: [ids] });
  return ids.map(() => true as const);
}, { maxBatch: 100, maxConcurrent: 1 });
const finish = createBatcher<{ id: string; output: string }, true>(async (runs) => {
  await pool.query({
    name: "floor-finish",
    text: "UPDATE floor_run r SET status = 'succeeded', output = f.output, updated_at = now() FROM unnest($1::uuid[], $2::jsonb[]) AS f(id, output) WHERE r.id = f.id AND r.status = 'running'",
    values: [runs.map((r) => r.id), runs.map((r) => r.output)],
  });
  return runs.map(() => true as const);
}, { maxBatch: 100, maxConcurrent: 1 });

async function runOne(id: string): Promise<void> {
  await claim(id);
  const res = await upstream.request({ method: "GET", path: "/v1/projects", headers: { authorization } });
  const body = await res.body.json();
  if (res.statusCode !== 200) throw new Error(`upstream ${res.statusCode}`);
  await finish({ id, output: JSON.stringify({ data: body }) });
}

const worker = new Worker<{ id: string } | { ids: string[] }>("floor", async (job) => {
  if ("ids" in job.data) await Promise.all(job.data.ids.map(runOne));
  else await runOne(job.data.id);
}, { connection: new Redis(env("REDIS_URL"), { maxRetriesPerRequest: null }), prefix: env("PREFIX"), concurrency: Number(env("CONCURRENCY")) });
worker.on("error", (error) => console.error(error));
worker.on("failed", (job, error) => console.error(`job ${job?.id} failed: ${error.message}`));
process.on("SIGTERM", () => void worker.close().then(() => process.exit(0)));
