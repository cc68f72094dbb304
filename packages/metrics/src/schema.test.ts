import { describe, expect, it } from "vitest";
import { bucketOf, labelField, labelValue, RUN_METRICS } from "./schema";

describe("run metric labels", () => {
  it("keeps slugs, statuses and error codes, and turns anything else into `other`", () => {
    for (const ok of ["scale_ai", "SCALE_AI_CREATE_BATCH", "succeeded", "UPSTREAM_CONFLICT", ""]) expect(labelValue(ok)).toBe(ok);
    expect(labelValue(null)).toBe("");
    for (const bad of ["0190a8a6-0000-7000-8000-000000000000", "nk_abc-def", "https://x.example/a", "two words", "a|b", "x".repeat(200), "é"]) {
      expect(labelValue(bad), bad).toBe("other");
    }
    expect(labelField(["scale_ai", "0190a8a6-0000-7000-8000-000000000000"])).toBe('["scale_ai","other"]');
  });

  it("names every metric with the nagent_ prefix and base units, and lists no reserved label", () => {
    for (const spec of RUN_METRICS) {
      expect(spec.name).toMatch(/^nagent_[a-z_]+$/);
      expect(spec.labelNames).not.toContain("le");
      if (spec.kind === "counter") expect(spec.name).toMatch(/_total$/);
      else expect([...spec.buckets]).toEqual([...spec.buckets].sort((a, b) => a - b));
    }
  });

  it("puts an observation in the smallest bucket that holds it", () => {
    expect(bucketOf([1, 2, 5], 0)).toBe("1");
    expect(bucketOf([1, 2, 5], 1)).toBe("1");
    expect(bucketOf([1, 2, 5], 1.5)).toBe("2");
    expect(bucketOf([1, 2, 5], 5)).toBe("5");
    expect(bucketOf([1, 2, 5], 6)).toBe("+Inf");
  });
});
