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
import { clearPrefix } from "./bullmq-ceiling";
import { sampleInterleaved, type ClientCalls } from "./clients";
import { openDirectAndSync, startStack, type Stack } from "./stack";

const dirs = [process.env["A"], process.env["B"]];
if (!dirs[0] || !dirs[1]) throw new Error("set A and B to the two checkouts' directories");
const { config } = configFromProcess({ generate: false, secrets: false });

interface Side { readonly dir: string; readonly url: string; readonly prefix: string; stack?: Stack; calls?: { direct: ClientCalls; sync: ClientCalls } }
const sides: Side[] = dirs.map((dir, i) => ({ dir: dir!, url: withDatabase(config.databaseUrl, `nagent_bench_ab${i}`), prefix: `nbench${randomBytes(4).toString("hex")}` }));
try {
  for (const side of sides) {
    await dropDatabase(side.url);
    await migrate({ url: side.url, dir: MIGRATIONS_DIR });
    process.chdir(side.dir); // startStack starts the API, worker and sandbox from the current directory
    side.stack = await startStack(config, side.url, side.prefix);
    side.calls = await openDirectAndSync(side.stack, await side.stack.workspace("agent"));
  }
  const [a, b] = sides.map((side) => side.calls!);
  const r = await sampleInterleaved({ directA: a!.direct.call.lean, syncA: a!.sync.call.lean, directB: b!.direct.call.lean, syncB: b!.sync.call.lean }, Number(process.env["ROUNDS"] ?? 1500), 300);
  const f = (ms: number) => `${ms.toFixed(2)} ms`;
  for (const [name, sync, direct] of [["A", r.syncA, r.directA], ["B", r.syncB, r.directB]] as const) {
    const dir = name === "A" ? dirs[0] : dirs[1];
    console.log(`${name} ${dir}: sync p50 ${f(sync.p50)} p99 ${f(sync.p99)}; direct p50 ${f(direct.p50)}; overhead p50 ${f(sync.p50 - direct.p50)} p99 ${f(sync.p99 - direct.p99)}`);
  }
} finally {
  for (const side of sides) {
    side.calls?.sync.close();
    side.calls?.direct.close();
    await side.stack?.stop();
    await dropDatabase(side.url);
    await clearPrefix(config.redisUrl, side.prefix);
  }
}
