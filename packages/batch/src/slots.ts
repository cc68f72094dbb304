/**
 * A fixed number of slots: `run` waits for a free one (first come, first served), runs the task in it, and frees it
 * however the task ends. The worker bounds the runs it has in flight with one (NAGENT_WORKER_CONCURRENCY), whether
 * they came one per job or many in a batch job.
 */
export function createSlots(size: number) {
  if (!Number.isInteger(size) || size < 1) throw new Error(`slots: size must be a positive integer, not ${size}`);
  let free = size;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
    /** Slots free now, and tasks waiting for one (tests, metrics). */
    get free(): number {
      return free;
    },
    get waiting(): number {
      return waiting.length;
    },
  };
}

export type Slots = ReturnType<typeof createSlots>;
