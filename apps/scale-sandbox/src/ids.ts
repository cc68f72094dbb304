import { randomBytes, randomUUID } from "node:crypto";

// Scale's ids are MongoDB ObjectIds: 4 bytes of seconds, 5 bytes fixed per process, a 3-byte counter. Built the same
// way here, ids sort by creation time like the real ones do.
const PROCESS_PART = randomBytes(5).toString("hex");
let counter = randomBytes(3).readUIntBE(0, 3);

/** A 24-hex-character id like `576ba74eec471ff9b01557cc`. */
export function objectId(now: Date = new Date()): string {
  counter = (counter + 1) % 0x1000000;
  const seconds = Math.floor(now.getTime() / 1000) % 0x100000000;
  return seconds.toString(16).padStart(8, "0") + PROCESS_PART + counter.toString(16).padStart(6, "0");
}

/** Scale's file ids are UUIDs. */
export function fileId(): string {
  return randomUUID();
}

/** The form a key is shown in logs and listings: `test_…1a2b`. */
export function maskKey(key: string): string {
  const underscore = key.indexOf("_");
  const prefix = underscore > 0 ? key.slice(0, underscore + 1) : "";
  const body = key.slice(prefix.length);
  // Short keys would show most of themselves: show only the mode then.
  return body.length >= 12 ? `${prefix}…${body.slice(-4)}` : `${prefix}…`;
}
