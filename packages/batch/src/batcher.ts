/**
 * Opportunistic batching (group commit): a call runs at once when fewer than `maxConcurrent` batches are in flight;
 * otherwise it waits for the next batch, which takes every call queued meanwhile (up to `maxBatch`). At low load
 * every call is its own batch and waits for nothing; under load one statement serves many calls, so the database does
 * one round trip, one plan and one commit for all of them.
 *
 * `execute` receives the items and must return one result per item, in the same order. A failure of the batch fails
 * every call in it.
 */
export function createBatcher<I, O>(execute: (items: I[]) => Promise<O[]>, options: { maxBatch: number; maxConcurrent: number }) {
  const waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;

  const pump = (): void => {
    while (inFlight < options.maxConcurrent && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight++;
      execute(batch.map((b) => b.item))
        .then((results) => {
          if (results.length !== batch.length) throw new Error(`batch returned ${results.length} results for ${batch.length} items`);
          batch.forEach((b, i) => b.resolve(results[i]!));
        })
        .catch((error: unknown) => batch.forEach((b) => b.reject(error)))
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };

  return (item: I): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      pump();
    });
}

/**
 * Which batches a call joins. `express`: a call someone waits on (a sync execute's run, at every step); `bulk`: the
 * rest (async runs). Each lane has its own batches, so under an async flood a sync run's statement neither waits for
 * the flood's batch in flight nor rides in the next one (with its durable commit and its size), and every lane still
 * batches its own calls.
 */
export type Lane = "express" | "bulk";

/**
 * A batcher per lane (see `Lane`), with the same options; `execute` is told the lane of its batch (every call of a
 * batch has the same one). A call goes to `bulk` unless told.
 */
export function createLanedBatcher<I, O>(execute: (items: I[], lane: Lane) => Promise<O[]>, options: { maxBatch: number; maxConcurrent: number }) {
  const lanes: Record<Lane, (item: I) => Promise<O>> = {
    express: createBatcher((items) => execute(items, "express"), options),
    bulk: createBatcher((items) => execute(items, "bulk"), options),
  };
  return (item: I, lane: Lane = "bulk"): Promise<O> => lanes[lane](item);
}
