import { describe, expect, it } from "vitest";
import { classifyStatus, classifyTransportError, parseRetryAfter, upstreamMessage } from "./classify";
import { transportMayHaveReachedUpstream } from "./classify";
import { retryDelayMs } from "./backoff";

describe("classifyStatus", () => {
  it.each([
    [400, "UPSTREAM_BAD_REQUEST", false],
    [401, "UPSTREAM_UNAUTHORIZED", false],
    [402, "UPSTREAM_NOT_ENABLED", false],
    [404, "UPSTREAM_NOT_FOUND", false],
    [409, "UPSTREAM_CONFLICT", false],
    [429, "UPSTREAM_RATE_LIMITED", true],
    [500, "UPSTREAM_UNAVAILABLE", true],
    [503, "UPSTREAM_UNAVAILABLE", true],
    [504, "UPSTREAM_TIMEOUT", true],
  ])("%i → %s (retryable %s)", (status, code, retryable) => {
    expect(classifyStatus(status, "msg")).toEqual({ code, message: "msg", retryable, upstream_status: status });
  });

  it("keeps Scale's own message and bounds its length", () => {
    expect(upstreamMessage({ status_code: 409, error: "The unique_id (\"x\") is already used" })).toBe('The unique_id ("x") is already used');
    expect(upstreamMessage({ error: "x".repeat(5000) })!.length).toBe(1000);
  });

  it("classifies transport failures", () => {
    expect(classifyTransportError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", retryable: true });
    expect(classifyTransportError(Object.assign(new Error("x"), { code: "UND_ERR_HEADERS_TIMEOUT" }))).toMatchObject({ code: "UPSTREAM_TIMEOUT", retryable: true });
    expect(classifyTransportError(new DOMException("timed out", "TimeoutError"))).toMatchObject({ code: "UPSTREAM_TIMEOUT" });
    expect(classifyTransportError(Object.assign(new Error("x"), { cause: { code: "EGRESS_BLOCKED" } }))).toMatchObject({ code: "EGRESS_BLOCKED", retryable: false });
  });
});

describe("Retry-After and backoff", () => {
  it("parses delta-seconds and HTTP dates, bounded", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5000);
    expect(parseRetryAfter("999999")).toBe(3_600_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("jitters fully within an exponentially growing, capped ceiling", () => {
    const opts = { baseMs: 100, capMs: 1000 };
    expect(retryDelayMs(1, undefined, opts, () => 0.999)).toBeLessThanOrEqual(100);
    expect(retryDelayMs(3, undefined, opts, () => 0.999)).toBeLessThanOrEqual(400);
    expect(retryDelayMs(3, undefined, opts, () => 0.999)).toBeGreaterThan(390);
    expect(retryDelayMs(10, undefined, opts, () => 0.999)).toBeLessThanOrEqual(1000);
    expect(retryDelayMs(2, undefined, opts, () => 0)).toBe(0);
  });

  it("waits at least Retry-After", () => {
    expect(retryDelayMs(1, 3000, undefined, () => 0)).toBe(3000);
    expect(retryDelayMs(1, 3000, undefined, () => 1)).toBeGreaterThan(3000);
  });
});

describe("whether a failed attempt may have reached the upstream", () => {
  it("a timeout or a dropped connection may have; a refused connection or an unknown host may not", () => {
    expect(transportMayHaveReachedUpstream(Object.assign(new Error("x"), { code: "UND_ERR_HEADERS_TIMEOUT" }))).toBe(true);
    expect(transportMayHaveReachedUpstream(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(true);
    expect(transportMayHaveReachedUpstream(new DOMException("late", "TimeoutError"))).toBe(true);
    expect(transportMayHaveReachedUpstream(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe(false);
    expect(transportMayHaveReachedUpstream(Object.assign(new Error("x"), { code: "ENOTFOUND" }))).toBe(false);
    expect(transportMayHaveReachedUpstream(Object.assign(new Error("x"), { code: "UND_ERR_CONNECT_TIMEOUT" }))).toBe(false);
  });
});
