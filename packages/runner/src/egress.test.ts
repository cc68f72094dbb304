import { describe, expect, it } from "vitest";
import { checkOutboundUrl, createEgressLookup, isNonPublicAddress } from "./egress";

const closed = { allowPrivate: false, allowlist: [] };
const open = { allowPrivate: true, allowlist: [] };

describe("egress policy", () => {
  it.each(["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"])("%s is not public", (ip) => {
    expect(isNonPublicAddress(ip)).toBe(true);
  });

  it.each(["8.8.8.8", "1.1.1.1", "2606:4700::1111"])("%s is public", (ip) => {
    expect(isNonPublicAddress(ip)).toBe(false);
  });

  it("accepts http(s) URLs without credentials", () => {
    expect(checkOutboundUrl("https://api.scale.com", closed).ok).toBe(true);
    expect(checkOutboundUrl("ftp://x.com", open)).toEqual({ ok: false, reason: "must use http or https" });
    expect(checkOutboundUrl("https://user:pw@x.com", open)).toEqual({ ok: false, reason: "must not contain credentials" });
    expect(checkOutboundUrl("not a url", open).ok).toBe(false);
  });

  it("refuses private and loopback hosts unless allowed or allow-listed", () => {
    for (const url of ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]/", "http://169.254.169.254/latest", "http://db.internal/"]) {
      expect(checkOutboundUrl(url, closed).ok, url).toBe(false);
      expect(checkOutboundUrl(url, open).ok, url).toBe(true);
    }
    expect(checkOutboundUrl("http://localhost:4010", { allowPrivate: false, allowlist: ["localhost"] }).ok).toBe(true);
    expect(checkOutboundUrl("http://sandbox.corp.example", { allowPrivate: false, allowlist: ["*.corp.example"] }).ok).toBe(true);
  });

  it("refuses, at connection time, a name that resolves to a private address", async () => {
    const lookup = createEgressLookup(closed);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup("localhost", {}, (e) => resolve(e)));
    expect(err?.code).toBe("EGRESS_BLOCKED");
    const ok = await new Promise<string>((resolve, reject) => createEgressLookup(open)("localhost", {}, (e, address) => (e ? reject(e) : resolve(address as string))));
    expect(["127.0.0.1", "::1"]).toContain(ok);
  });
});
