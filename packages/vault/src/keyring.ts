import type { MasterKey } from "@nagent/config";
import { KEY_BYTES, wipe } from "./aead";
import { VaultError } from "./errors";

/** A master key as the vault holds it: its own copy of the material, wiped on close. */
export interface MasterKeyEntry {
  readonly id: string;
  readonly key: Uint8Array;
}

export interface Keyring {
  /** The key new and rewrapped data keys are wrapped with: the last of the list. */
  readonly active: MasterKeyEntry;
  readonly ids: readonly string[];
  /** The key with that id, or throws `UNKNOWN_MASTER_KEY`. */
  get(id: string): MasterKeyEntry;
  has(id: string): boolean;
  /** Overwrites the vault's copies of every master key. */
  wipe(): void;
}

const ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Checks a keyring (at least one key, ids well formed and unique, each key 32 bytes; `parseMasterKeys` of
 * @nagent/config checks the same when reading NAGENT_MASTER_KEYS) and copies its material, so wiping the vault
 * never touches the caller's buffers. Errors name ids and positions only.
 */
export function createKeyring(masterKeys: readonly MasterKey[]): Keyring {
  if (!Array.isArray(masterKeys) || masterKeys.length === 0) {
    throw new VaultError("INVALID_KEYRING", "The master keyring is empty: NAGENT_MASTER_KEYS needs at least one key (v1:<base64 of 32 bytes>).");
  }
  const entries = new Map<string, MasterKeyEntry>();
  masterKeys.forEach((mk, index) => {
    if (typeof mk?.id !== "string" || !ID.test(mk.id)) throw new VaultError("INVALID_KEYRING", `Master key #${index + 1} has no valid id.`);
    if (entries.has(mk.id)) throw new VaultError("INVALID_KEYRING", `Master key id "${mk.id}" appears twice.`);
    if (!(mk.key instanceof Uint8Array) || mk.key.length !== KEY_BYTES) {
      throw new VaultError("INVALID_KEYRING", `Master key "${mk.id}" must be ${KEY_BYTES} bytes, got ${mk.key instanceof Uint8Array ? mk.key.length : 0}.`);
    }
    if (mk.key.every((b: number) => b === 0)) throw new VaultError("INVALID_KEYRING", `Master key "${mk.id}" is all zero bytes.`);
    entries.set(mk.id, { id: mk.id, key: new Uint8Array(mk.key) });
  });
  const active = [...entries.values()].at(-1)!;
  const ids = [...entries.keys()];
  let wiped = false;
  return {
    get active() {
      if (wiped) throw new VaultError("VAULT_CLOSED", "The vault is closed.");
      return active;
    },
    ids,
    has: (id) => !wiped && entries.has(id),
    get(id) {
      if (wiped) throw new VaultError("VAULT_CLOSED", "The vault is closed.");
      const entry = entries.get(id);
      if (!entry) {
        throw new VaultError(
          "UNKNOWN_MASTER_KEY",
          `A data key is wrapped by master key "${id}", which NAGENT_MASTER_KEYS does not hold (it holds ${ids.map((i) => `"${i}"`).join(", ")}).`,
        );
      }
      return entry;
    },
    wipe() {
      wiped = true;
      for (const entry of entries.values()) wipe(entry.key);
    },
  };
}
