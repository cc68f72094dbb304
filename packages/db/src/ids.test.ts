import { describe, expect, it } from "vitest";
import { isUuid, uuidv7 } from "./ids";

describe("uuidv7", () => {
  it("is a version-7, variant-1 UUID carrying the time in its first 48 bits", () => {
    const id = uuidv7(Date.UTC(2026, 10, 28));
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect(["8", "9", "a", "b"]).toContain(id[19]);
    expect(parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(Date.UTC(2026, 10, 28));
  });

  it("sorts by time and does not repeat, across many ids (the random pool refills)", () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => uuidv7(1_000_000 + i));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
