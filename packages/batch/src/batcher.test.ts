import { describe, expect, it } from "vitest";
import { createBatcher, createLanedBatcher } from "./batcher";

describe("createBatcher", () => {
  it("runs a lone call at once, and batches the calls that arrive while a batch is in flight", async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const gate = () => new Promise<void>((r) => (release = r));
    let first = true;
    const call = createBatcher<number, number>(async (items) => {
      batches.push(items);
      if (first) {
        first = false;
        await gate();
      }
      return items.map((i) => i * 2);
    }, { maxBatch: 3, maxConcurrent: 1 });
    const a = call(1);
    const rest = [2, 3, 4, 5, 6].map(call);
    await new Promise((r) => setTimeout(r, 5));
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([a, ...rest])).toEqual([2, 4, 6, 8, 10, 12]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it("fails every call of a failed batch, and keeps serving later calls", async () => {
    let fail = true;
    const call = createBatcher<number, number>(async (items) => {
      if (fail) throw new Error("boom");
      return items;
    }, { maxBatch: 10, maxConcurrent: 2 });
    await expect(call(1)).rejects.toThrow("boom");
    fail = false;
    expect(await call(2)).toBe(2);
  });

  it("laned: an express call runs at once while a bulk batch is in flight, and each lane batches its own calls", async () => {
    const batches: string[][] = [];
    let release: () => void = () => {};
    const call = createLanedBatcher<string, string>(async (items, lane) => {
      expect(items.every((item) => item.startsWith(lane))).toBe(true);
      batches.push(items);
      if (items[0] === "bulk-1") await new Promise<void>((r) => (release = r));
      return items;
    }, { maxBatch: 10, maxConcurrent: 1 });
    const bulk = ["bulk-1", "bulk-2", "bulk-3"].map((item) => call(item));
    expect(await call("express-1", "express")).toBe("express-1"); // not behind bulk-1's batch, still in flight
    expect(batches).toEqual([["bulk-1"], ["express-1"]]);
    release();
    expect(await Promise.all(bulk)).toEqual(["bulk-1", "bulk-2", "bulk-3"]);
    expect(batches).toEqual([["bulk-1"], ["express-1"], ["bulk-2", "bulk-3"]]);
  });
});
