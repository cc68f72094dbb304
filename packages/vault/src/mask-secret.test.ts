import { describe, expect, it } from "vitest";
import { maskSecret } from "./mask-secret";

describe("maskSecret", () => {
  it("keeps a short prefix and the last four characters", () => {
    expect(maskSecret("live_abcdef0123456789abcdef1a2b")).toBe("live_…1a2b");
    expect(maskSecret("test_0123456789abcdef0123456789abcdef")).toBe("test_…cdef");
    expect(maskSecret("sk_0123456789abcdefXYZW")).toBe("sk_…XYZW");
  });

  it("drops a prefix that is too long to be a mere kind marker", () => {
    expect(maskSecret("averylongprefix_0123456789abcdef")).toBe("…cdef");
    expect(maskSecret("0123456789abcdef0123")).toBe("…0123");
  });

  it("reveals nothing of short secrets", () => {
    expect(maskSecret("")).toBe("…");
    expect(maskSecret("live_")).toBe("…");
    expect(maskSecret("live_0123456789abcde")).toBe("…");
    expect(maskSecret("0123456789abcde")).toBe("…");
  });

  it("counts characters, not UTF-16 units, and fits the 64-character hint column", () => {
    expect(maskSecret("key_😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀")).toBe("key_…😀😀😀😀");
    expect(maskSecret(`live_${"x".repeat(500)}`).length).toBeLessThanOrEqual(64);
  });
});
