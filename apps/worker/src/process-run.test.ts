import { describe, expect, it } from "vitest";
import type { Job } from "bullmq";
import type { RunAttempts } from "@nagent/attempts";
import type { Admission, RunJobData, RunsQueueJobData } from "@nagent/queue";
import { createRunProcessor } from "./process-run";

const run = (n: number): RunJobData => ({ runId: `r${n}`, workspaceId: "w", connectionId: "c" });
const batchJob = (runs: RunJobData[], priority = 7) => ({ id: `batch-${runs[0]!.runId}`, data: { runs }, opts: { priority } }) as unknown as Job<RunsQueueJobData>;
const tick = () => new Promise((r) => setTimeout(r, 1));

/** Attempts whose runs end when the test says so; `refuse` answers a wait, `fail` throws. */
function fakeAttempts(options: { refuse?: Set<string>; fail?: Set<string> } = {}) {
  const gates = new Map<string, () => void>();
  const holders = new Map<string, string | undefined>();
  const attempts = {
    admit: async (job: RunJobData): Promise<Admission> => (options.refuse?.has(job.runId) ? { admitted: false, reason: "workspace_cap", waitMs: 300 } : { admitted: true }),
    noteWaiting: async () => 300,
    run: async (job: RunJobData, o: { holder?: string } = {}) => {
      holders.set(job.runId, o.holder);
      await new Promise<void>((r) => gates.set(job.runId, r));
      if (options.fail?.has(job.runId)) throw new Error(`attempt of ${job.runId} failed`);
      return { envelope: null, retryInMs: null };
    },
  } as unknown as RunAttempts;
  return { attempts, gates, holders, end: (id: string) => gates.get(id)!() };
}

describe("the run processor", () => {
  it("runs a batch's runs in the worker's slots, held by the batch's job; hands a refused run a job of its own", async () => {
    const f = fakeAttempts({ refuse: new Set(["r3"]) });
    const handedOff: [string, number, number, string | undefined][] = [];
    const done: string[][] = [];
    const processRun = createRunProcessor(f.attempts, {
      slots: 2,
      handOff: async (r, priority, ms, heldBy) => void handedOff.push([r.runId, priority, ms, heldBy]),
      batchDone: async (b) => void done.push(b.runs.map((r) => r.runId)),
    });
    const finished = processRun(batchJob([run(1), run(2), run(3), run(4)]));
    await tick();
    // Two slots: r1 and r2 run, r3 and r4 wait for a slot.
    expect([...f.holders.keys()]).toEqual(["r1", "r2"]);
    f.end("r1");
    await tick();
    // r3 got r1's slot, was refused and left the batch at once; r4 took the slot.
    expect(handedOff).toEqual([["r3", 7, 300, "batch-r1"]]);
    expect([...f.holders.keys()]).toEqual(["r1", "r2", "r4"]);
    expect(f.holders.get("r4")).toBe("batch-r1");
    f.end("r2");
    f.end("r4");
    await finished;
    expect(done).toEqual([["r1", "r2", "r3", "r4"]]);
  });

  it("fails a batch whose attempt threw, once its other runs ended", async () => {
    const f = fakeAttempts({ fail: new Set(["r1"]) });
    let done = 0;
    const processRun = createRunProcessor(f.attempts, { slots: 4, handOff: async () => {}, batchDone: async () => void done++ });
    const finished = processRun(batchJob([run(1), run(2)]));
    let settled = false;
    finished.catch(() => {}).finally(() => (settled = true));
    await tick();
    f.end("r1");
    await tick();
    expect(settled).toBe(false); // r2 still runs
    f.end("r2");
    await expect(finished).rejects.toThrow("attempt of r1 failed");
    expect(done).toBe(1);
  });

  it("asks for no more jobs while its slots are spoken for: the jobs in hand plus one per free slot", async () => {
    const f = fakeAttempts();
    const capacity: number[] = [];
    const processRun = createRunProcessor(f.attempts, { slots: 3, handOff: async () => {}, batchDone: async () => {}, onCapacity: (n) => capacity.push(n) });
    const finished = processRun(batchJob([run(1), run(2), run(3), run(4), run(5)]));
    await tick();
    // One job holding five runs for three slots: no more jobs.
    expect(capacity).toEqual([1]);
    for (const id of ["r1", "r2", "r3"]) f.end(id);
    await tick();
    // Three runs ended; r4 and r5 hold two slots, one is free: one more job may come.
    expect(capacity.at(-1)).toBe(2);
    f.end("r4");
    f.end("r5");
    await finished;
    // Nothing in hand: as many jobs as slots.
    expect(capacity.at(-1)).toBe(3);
  });
});
