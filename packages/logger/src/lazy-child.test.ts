import { describe, expect, it, vi } from "vitest";
import { Writable } from "node:stream";
import { createLogger, LazyChildLogger } from "./index";

function capture(level = "warn") {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const parent = createLogger({ level, destination });
  return { parent, lines, childSpy: vi.spyOn(parent, "child") };
}

describe("LazyChildLogger", () => {
  it("makes no child while nothing logs at an enabled level", () => {
    const { parent, lines, childSpy } = capture("warn");
    const log = new LazyChildLogger(parent, { reqId: "r1" });
    log.info({ a: 1 }, "not shown");
    log.debug("not shown");
    expect(log.level).toBe("warn");
    expect(log.isLevelEnabled("info")).toBe(false);
    expect(log.isLevelEnabled("error")).toBe(true);
    // What Fastify checks of a factory's logger on every request.
    for (const method of ["info", "error", "debug", "fatal", "warn", "trace", "child"] as const) expect(typeof log[method]).toBe("function");
    expect(childSpy).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it("logs what the child would, bindings and redaction included, making it once", () => {
    const { parent, lines, childSpy } = capture("warn");
    const log = new LazyChildLogger(parent, { reqId: "r1" });
    log.warn({ api_key: "live_abc", nested: { token: "t0k" } }, "first");
    log.error("second");
    expect(childSpy).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l["reqId"], l["msg"], l["level"]])).toEqual([["r1", "first", "warn"], ["r1", "second", "error"]]);
    expect(lines[0]!["api_key"]).toBe("[redacted]");
    expect((lines[0]!["nested"] as Record<string, unknown>)["token"]).toBe("[redacted]");
  });

  it("passes its options and gives children of its own", () => {
    const { parent, lines } = capture("warn");
    const log = new LazyChildLogger(parent, { reqId: "r2" }, { level: "debug" });
    expect(log.isLevelEnabled("debug")).toBe(true);
    log.debug("route level");
    log.child({ step: "inner" }).info("from a child");
    expect(lines.map((l) => [l["reqId"], l["step"], l["msg"]])).toEqual([["r2", undefined, "route level"], ["r2", "inner", "from a child"]]);
  });

  it("forwards to a logger that is not pino (no levels): every call makes the child", () => {
    const seen: unknown[][] = [];
    const plain = { child: (bindings: Record<string, unknown>) => ({ ...plain, warn: (...args: unknown[]) => seen.push([bindings, ...args]) }), warn: () => {} };
    const log = new LazyChildLogger(plain as never, { reqId: "r3" });
    expect(log.isLevelEnabled("debug")).toBe(true);
    log.warn("plain");
    expect(seen).toEqual([[{ reqId: "r3" }, "plain"]]);
  });
});
