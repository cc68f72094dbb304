import { describe, expect, it } from "vitest";
import { createSlots } from "./slots";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("createSlots", () => {
  it("runs at most `size` tasks at once, the rest in arrival order as slots free up", async () => {
    const slots = createSlots(2);
    const started: number[] = [];
    const gates = new Map<number, () => void>();
    const task = (n: number) => slots.run(async () => {
      started.push(n);
      await new Promise<void>((r) => gates.set(n, r));
      return n * 10;
    });
    const all = [1, 2, 3, 4].map(task);
    await tick();
    expect(started).toEqual([1, 2]);
    expect(slots.waiting).toBe(2);
    gates.get(2)!();
    await tick();
    expect(started).toEqual([1, 2, 3]);
    gates.get(1)!();
    gates.get(3)!();
    await tick();
    gates.get(4)!();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40]);
    expect(slots.free).toBe(2);
    expect(slots.waiting).toBe(0);
  });

  it("frees the slot of a task that throws", async () => {
    const slots = createSlots(1);
    await expect(slots.run(async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    expect(await slots.run(async () => "next")).toBe("next");
    expect(slots.free).toBe(1);
  });

  it("refuses a size that is not a positive integer", () => {
    expect(() => createSlots(0)).toThrow();
    expect(() => createSlots(1.5)).toThrow();
  });
});
