// `npm run bench [-- name…]`: runs every benchmark (bench/<name>/index.ts), or the named ones, one after another, each
// in its own Node process so that one's memory, handles and JIT state never colour the next's figures. Their output
// passes through; the exit code is non-zero if any benchmark failed (crashed or missed its target).
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** The benchmarks: every folder of bench/ with an index.ts (helpers such as bench/lib have none), by name. */
export function discoverBenchmarks(dir = BENCH_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "index.ts")))
    .map((entry) => entry.name)
    .sort();
}

function runOne(name: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; seconds: number }> {
  const started = Date.now();
  const entry = relative(process.cwd(), join(BENCH_DIR, name, "index.ts"));
  const child = spawn(process.execPath, ["--import", "tsx", entry], { stdio: "inherit", env: process.env });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code, signal, seconds: (Date.now() - started) / 1000 }));
  });
}

async function main(): Promise<void> {
  const all = discoverBenchmarks();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; there are: ${all.join(", ")}`);
    process.exit(2);
  }
  const names = wanted.length > 0 ? wanted : all;
  const results: { name: string; ok: boolean; detail: string }[] = [];
  for (const name of names) {
    console.log(`\n=== bench/${name} ===`);
    const { code, signal, seconds } = await runOne(name);
    const ok = code === 0;
    results.push({ name, ok, detail: `${ok ? "ok" : signal ? `killed by ${signal}` : `exit code ${code}`}, ${seconds.toFixed(0)} s` });
  }
  console.log("\n=== summary ===");
  for (const r of results) console.log(`  ${r.ok ? "PASS" : "FAIL"}  bench/${r.name} (${r.detail})`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
