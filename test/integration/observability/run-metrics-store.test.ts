import { afterAll, describe, expect, it } from "vitest";
import { createRedis } from "@nagent/queue";
import { createRunMetricsReader, createRunMetricsRecorder, metricKey, RUN_ATTEMPTS, RUN_DURATION, RUNS_FINISHED, RUNS_STARTED, UPSTREAM_LATENCY } from "@nagent/metrics";
import { TEST_REDIS_URL, testQueuePrefix } from "../../support/redis";

const redis = createRedis(TEST_REDIS_URL, "worker");
afterAll(() => redis.disconnect());

const run = { integration: "scale_ai", action: "SCALE_AI_GET_BATCH" };

describe("run metrics in Redis", () => {
  it("sums what several processes record, as cumulative histograms", async () => {
    const prefix = testQueuePrefix();
    // Two recorders on the same prefix stand for two worker processes.
    const [a, b] = [createRunMetricsRecorder(redis, { prefix }), createRunMetricsRecorder(redis, { prefix })];
    await a.runStarted(run);
    await b.runStarted(run);
    await b.runStarted(run);
    await a.runFinished({ ...run, status: "succeeded", errorCode: null, attempts: 1, durationMs: 80, upstreamLatencyMs: 40 });
    await b.runFinished({ ...run, status: "failed", errorCode: "UPSTREAM_TIMEOUT", attempts: 3, durationMs: 4_000, upstreamLatencyMs: null });
    await b.runFinished({ ...run, status: "canceled", errorCode: "CANCELED", attempts: null, durationMs: null, upstreamLatencyMs: null });

    const reader = createRunMetricsReader(redis, { prefix });
    expect(await reader.counter(RUNS_STARTED)).toEqual([{ labels: run, value: 3 }]);
    expect(await reader.counter(RUNS_FINISHED)).toEqual(expect.arrayContaining([
      { labels: { ...run, status: "succeeded", error_code: "" }, value: 1 },
      { labels: { ...run, status: "failed", error_code: "UPSTREAM_TIMEOUT" }, value: 1 },
      { labels: { ...run, status: "canceled", error_code: "CANCELED" }, value: 1 },
    ]));
    const [duration] = await reader.histogram(RUN_DURATION);
    expect(duration).toMatchObject({ labels: run, count: 2 });
    expect(duration!.sum).toBeCloseTo(4.08);
    const at = (le: number) => duration!.buckets.find((x) => x.le === le)!.count;
    expect([at(0.05), at(0.1), at(2.5), at(5), at(600)]).toEqual([0, 1, 1, 2, 2]);
    expect((await reader.histogram(UPSTREAM_LATENCY))[0]).toMatchObject({ count: 1, sum: 0.04 });
    const [attempts] = await reader.histogram(RUN_ATTEMPTS);
    expect(attempts!.buckets.slice(0, 3)).toEqual([{ le: 1, count: 1 }, { le: 2, count: 1 }, { le: 3, count: 2 }]);
  });

  it("keeps counts cumulative when stored bounds differ from the current buckets, and skips fields it cannot read", async () => {
    const prefix = testQueuePrefix();
    const key = metricKey(prefix, RUN_DURATION);
    const labels = JSON.stringify(["scale_ai", "SCALE_AI_GET_BATCH"]);
    // 0.07 is no current bound (an older deploy's): it counts in 0.1; +Inf only in the total.
    await redis.hset(key, `${labels}|le=0.07`, "2", `${labels}|le=+Inf`, "1", `${labels}|sum`, "700.5", `${labels}|count`, "3", "garbage", "1", `["x"]|count`, "9");
    const [series, ...rest] = await createRunMetricsReader(redis, { prefix }).histogram(RUN_DURATION);
    expect(rest).toEqual([]);
    expect(series!.buckets.find((x) => x.le === 0.05)!.count).toBe(0);
    expect(series!.buckets.find((x) => x.le === 0.1)!.count).toBe(2);
    expect(series!.buckets.at(-1)!.count).toBe(2);
    expect(series!.count).toBe(3);
  });
});
