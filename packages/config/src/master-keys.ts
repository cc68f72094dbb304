/** One master key of the vault keyring. `id` is recorded in every wrapped data key. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

const ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Parses `v1:<base64>,v2:<base64>`: each key 32 bytes, ids unique; the last one is the active key. Error messages
 * name the key id or position, never the key material.
 */
export function parseMasterKeys(spec: string): MasterKey[] {
  const entries = spec.split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error("no keys given (format v1:<base64 of 32 bytes>[,v2:<…>])");
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(":");
    const id = colon > 0 ? entry.slice(0, colon) : "";
    if (!ID.test(id)) throw new Error(`key #${index + 1} has no valid id (expected <id>:<base64>, id of letters, digits, _ or -)`);
    if (seen.has(id)) throw new Error(`key id "${id}" appears twice`);
    seen.add(id);
    const material = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material)) throw new Error(`key "${id}" is not base64`);
    const key = Buffer.from(material, "base64");
    if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes, got ${key.length}`);
    return { id, key };
  });
}
