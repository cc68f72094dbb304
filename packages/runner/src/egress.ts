import { BlockList, isIP, type LookupFunction } from "node:net";
import { lookup as dnsLookup, type LookupAddress } from "node:dns";

/**
 * The outbound-URL policy. Every URL the platform calls (a connection's base URL) or hands to an upstream to call
 * (callback URLs, file URLs) must be http(s), carry no credentials, and name a host. Private, loopback, link-local
 * and other non-public addresses are refused unless `allowPrivate` (the default outside production) or the host is
 * on the allow-list (`NAGENT_EGRESS_ALLOWLIST`: exact names or `*.suffix`). For URLs the platform calls itself the
 * check is repeated on every connection, after DNS resolution (`createEgressLookup`), so a name that later resolves
 * to a private address (DNS rebinding) is refused too.
 */
export interface EgressPolicy {
  readonly allowPrivate: boolean;
  readonly allowlist: readonly string[];
}

export type UrlCheck = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string };

const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, "ipv4");
  NON_PUBLIC.addSubnet(`::ffff:${net}`, 96 + prefix, "ipv6"); // IPv4-mapped IPv6
}
for (const [net, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96]] as const) {
  NON_PUBLIC.addSubnet(net, prefix, "ipv6");
}

/** Whether an IP address is private, loopback, link-local, multicast or otherwise not on the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return NON_PUBLIC.check(address, family === 6 ? "ipv6" : "ipv4");
}

function allowListed(host: string, policy: EgressPolicy): boolean {
  const h = host.toLowerCase();
  return policy.allowlist.some((entry) => (entry.startsWith("*.") ? h.endsWith(entry.slice(1)) : h === entry));
}

const LOCAL_NAMES = /(^|\.)(localhost|localdomain|internal|local)$/i;

/**
 * Checks a URL's form and, when the host is an IP literal or a local name, its address. Names are resolved and
 * checked again at connection time by `createEgressLookup`.
 */
export function checkOutboundUrl(raw: string, policy: EgressPolicy): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "must use http or https" };
  if (url.username || url.password) return { ok: false, reason: "must not contain credentials" };
  if (!url.hostname) return { ok: false, reason: "must name a host" };
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (policy.allowPrivate || allowListed(host, policy)) return { ok: true, url };
  if (isNonPublicAddress(host) || LOCAL_NAMES.test(host)) {
    return { ok: false, reason: "points at a private or loopback address, which this deployment does not allow" };
  }
  return { ok: true, url };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` replacement for the HTTP client's socket connector that refuses non-public addresses under the
 * policy, so the check holds for the address actually connected to.
 */
export function createEgressLookup(policy: EgressPolicy): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      if (!policy.allowPrivate && !allowListed(hostname, policy)) {
        const blocked = list.find((a) => isNonPublicAddress(a.address));
        if (blocked) {
          const error: NodeJS.ErrnoException = new Error(`egress to a non-public address is not allowed`);
          error.code = "EGRESS_BLOCKED";
          return callback(error, []);
        }
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error("no address"), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}
