import { randomFillSync } from "node:crypto";

/**
 * Random bytes are drawn 4 KiB at a time: one getrandom() syscall per 256 ids instead of one per id (it showed up in
 * the API's profile at a few thousand runs a second). Still a CSPRNG; the pool is never reused.
 */
const POOL = Buffer.alloc(4096);
let offset = POOL.length;

function random16(): Buffer {
  if (offset + 16 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const bytes = Buffer.from(POOL.subarray(offset, offset + 16));
  offset += 16;
  return bytes;
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Time-ordered ids keep B-tree inserts at the
 * right edge of the index and let `id` break ties between rows created in the same millisecond.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = random16();
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID; ids from the outside are checked before they reach a uuid column. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
