import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseMasterKeys } from "@nagent/config";
import { createVault } from "@nagent/vault";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { vaultError } from "./helpers";

const b64 = (n: number): string => randomBytes(n).toString("base64");

function configProblems(keys: string): string[] {
  try {
    loadConfig({ NAGENT_MASTER_KEYS: keys, NAGENT_ADMIN_TOKEN: "t".repeat(40) });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("NAGENT_MASTER_KEYS at boot", () => {
  it("accepts a keyring and makes the last key active", () => {
    const keys = parseMasterKeys(`v1:${b64(32)},v2:${b64(32)}`);
    expect(keys.map((k) => k.id)).toEqual(["v1", "v2"]);
    expect(keys.every((k) => k.key.length === 32)).toBe(true);
  });

  it("names the variable and the key id, never the material, for a bad length, a duplicate id or bad base64", () => {
    const short = b64(16);
    const bad = configProblems(`v1:${b64(32)},v2:${short}`);
    expect(bad).toEqual(['NAGENT_MASTER_KEYS: key "v2" must be 32 bytes, got 16']);
    expect(bad.join()).not.toContain(short);

    const material = b64(32);
    const dup = configProblems(`v1:${material},v1:${b64(32)}`);
    expect(dup).toEqual(['NAGENT_MASTER_KEYS: key id "v1" appears twice']);
    expect(dup.join()).not.toContain(material);

    expect(configProblems("v1:not base64!")).toEqual(['NAGENT_MASTER_KEYS: key "v1" is not base64']);
    expect(configProblems(b64(32))[0]).toMatch(/^NAGENT_MASTER_KEYS: key #1 has no valid id/);
  });
});

describe("createVault keyring checks", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("refuses an empty keyring, a wrong length, a duplicate id and an all-zero key, with INVALID_KEYRING", async () => {
    const key = randomBytes(32);
    const cases = [
      { keys: [], message: /empty/ },
      { keys: [{ id: "v1", key: randomBytes(31) }], message: /"v1" must be 32 bytes, got 31/ },
      { keys: [{ id: "v1", key }, { id: "v1", key: randomBytes(32) }], message: /"v1" appears twice/ },
      { keys: [{ id: "v 1", key }], message: /#1 has no valid id/ },
      { keys: [{ id: "v1", key: Buffer.alloc(32) }], message: /all zero/ },
    ];
    for (const c of cases) {
      const error = await vaultError(createVault({ prisma: db.prisma, masterKeys: c.keys }));
      expect(error.code).toBe("INVALID_KEYRING");
      expect(error.message).toMatch(c.message);
      expect(error.message).not.toContain(key.toString("base64"));
    }
  });
});
