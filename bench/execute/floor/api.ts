// The floor of an async execute's API side (bench/execute/floor): a bare Fastify route that records the run in
// PostgreSQL (one row, primary key only, durable commit) and queues its BullMQ job, with the run store's batching
// (one multi-row INSERT and one addBulk per batch). No authentication, no validation, no fairness, no idempotency,
// no logging: what any design that records a run and queues it must do at least. Not part of the product.
// FLOOR_JOBS=batch: one job per batch of runs (its data, their ids) instead of one per run, to measure what BullMQ's
// per-job cost weighs in the floor.
import Fastify from "fastify";
import pg from "pg";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createBatcher } from "@nagent/batch";
import { v7 as uuidv7 } from "uuid";

const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
const pool = new pg.Pool({ connectionString: env("DATABASE_URL"), max: 4 });
const queue = new Queue("floor", { connection: new Redis(env("REDIS_URL"), { maxRetriesPerRequest: 1 }), prefix: env("PREFIX") });

const record = createBatcher<string, true>(async (ids) => {
  await pool.query({ name: "floor-insert", text: "INSERT INTO floor_run (id, status, input) SELECT id, 'queued', '{}'::jsonb FROM unnest($1::uuid[]) AS id", values: [ids] });
  if (process.env["FLOOR_JOBS"] === "batch") await queue.add("runs", { ids }, { jobId: ids[0]!, removeOnComplete: true, removeOnFail: true });
  else await queue.addBulk(ids.map((id) => ({ name: "run", data: { id }, opts: { jobId: id, removeOnComplete: true, removeOnFail: true } })));
  return ids.map(() => true as const);
}, { maxBatch: 100, maxConcurrent: 1 });

const app = Fastify({ logger: false });
app.post("/execute", async (_request, reply) => {
  const id = uuidv7();
  await record(id);
  return reply.code(202).send({ data: { run_id: id, status: "queued" }, error: null, successful: true });
});
await app.listen({ host: "127.0.0.1", port: Number(env("PORT")) });
