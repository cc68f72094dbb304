// Interleaved A/B of bench/execute's (c), for a change too small for two separate benchmark runs to tell apart (their
// (c) moves by ±1 ms from run to run on these machines): two stacks, one from each checkout (API, worker and sandbox
// started from that directory, each with its own database and queue prefix), then the direct call and the sync
// execute of each, one after another in rotating order, so machine noise falls on both alike. Run it twice with A and
// B swapped. Usage (a second checkout with its node_modules, e.g. a git worktree):
//   A=/path/to/base B=$PWD ROUNDS=1500 npx tsx bench/execute/ab-idle.ts
import { randomBytes } from "node:crypto";
import { configFromProcess } from "@nagent/config";
import { migrate, MIGRATIONS_DIR } from "@nagent/db";
import { dropDatabase, withDatabase } from "../lib/database";
import { openClients, sampleInterleaved } from "./clients";
import { startStack, basicAuth } from "./stack";
import { clearPrefix } from "./bullmq-ceiling";
const [dirA, dirB] = [process.env.A!, process.env.B!];
const { config } = configFromProcess({ generate: false, secrets: false });
const stacks = [];
for (const [i, dir] of [dirA, dirB].entries()) {
  const url = withDatabase(config.databaseUrl, `nagent_bench_ab${i}`);
  await dropDatabase(url);
  await migrate({ url, dir: MIGRATIONS_DIR });
  process.chdir(dir);
  const prefix = `nbench${randomBytes(4).toString("hex")}`;
  const stack = await startStack(config, url, prefix);
  const key = await stack.workspace("agent");
  const sync = await openClients({ url: `${stack.api}/v1/actions/SCALE_AI_LIST_PROJECTS/execute`, method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ input: {}, mode: "sync" }) }, (s) => (s === 200 ? null : `status ${s}`));
  const direct = await openClients({ url: `${stack.sandboxUrl}/v1/projects`, method: "GET", headers: basicAuth(stack.scaleKey) }, (s) => (s === 200 ? null : `status ${s}`));
  stacks.push({ stack, sync, direct, url, prefix });
}
const [a, b] = stacks as any[];
const r = await sampleInterleaved({ directA: a.direct.call.lean, syncA: a.sync.call.lean, directB: b.direct.call.lean, syncB: b.sync.call.lean }, Number(process.env.ROUNDS ?? 1500), 300);
const f = (x: number) => x.toFixed(2);
console.log(`A ${dirA}: sync p50 ${f(r.syncA.p50)} p99 ${f(r.syncA.p99)}; direct p50 ${f(r.directA.p50)}; overhead p50 ${f(r.syncA.p50 - r.directA.p50)} p99 ${f(r.syncA.p99 - r.directA.p99)}`);
console.log(`B ${dirB}: sync p50 ${f(r.syncB.p50)} p99 ${f(r.syncB.p99)}; direct p50 ${f(r.directB.p50)}; overhead p50 ${f(r.syncB.p50 - r.directB.p50)} p99 ${f(r.syncB.p99 - r.directB.p99)}`);
for (const s of stacks as any[]) { s.sync.close(); s.direct.close(); await s.stack.stop(); await dropDatabase(s.url); await clearPrefix(config.redisUrl, s.prefix); }
