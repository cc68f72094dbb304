// Shared set-up of the vault tests: keyrings, workspaces and connections whose credentials are sealed by the vault.
import { randomBytes } from "node:crypto";
import type { MasterKey } from "@nagent/config";
import { uuidv7, type PrismaClient } from "@nagent/db";
import { afterAll, beforeAll } from "vitest";
import { CONNECTION_CREDENTIALS, createVault, isVaultError, type Vault, type VaultErrorCode } from "@nagent/vault";
import { createTestDatabase, type TestDatabase } from "../../support/database";

/** Master keys with fresh random material, by id; build keyrings from them in any order. */
export function masterKeys(...ids: string[]): Record<string, MasterKey> {
  return Object.fromEntries(ids.map((id) => [id, { id, key: randomBytes(32) }]));
}

export async function createWorkspace(prisma: PrismaClient, name = "ws"): Promise<string> {
  const id = uuidv7();
  await prisma.workspace.create({ data: { id, name } });
  return id;
}

export interface StoredConnection {
  readonly id: string;
  readonly workspaceId: string;
  readonly secret: string;
}

/** A connection row whose ciphertext the vault sealed for it, as the connections routes will store it. */
export async function createConnection(prisma: PrismaClient, vault: Vault, workspaceId: string, name = `c-${randomBytes(4).toString("hex")}`): Promise<StoredConnection> {
  const id = uuidv7();
  const secret = `live_${randomBytes(18).toString("hex")}`;
  const ciphertext = await vault.seal(workspaceId, secret, { connectionId: id, purpose: CONNECTION_CREDENTIALS });
  await prisma.connection.create({
    data: { id, workspaceId, integration: "scale_ai", name, status: "active", ciphertext, credentialHint: "…" },
  });
  return { id, workspaceId, secret };
}

export async function readCiphertext(prisma: PrismaClient, c: { id: string; workspaceId: string }): Promise<Uint8Array<ArrayBuffer>> {
  const row = await prisma.connection.findFirstOrThrow({ where: { id: c.id, workspaceId: c.workspaceId }, select: { ciphertext: true } });
  return row.ciphertext;
}

/** Opens a connection's stored credentials the way a run will: read the row, open with its context. */
export async function openConnection(prisma: PrismaClient, vault: Vault, c: { id: string; workspaceId: string }): Promise<string> {
  const plain = await vault.openLatest(c.workspaceId, { connectionId: c.id, purpose: CONNECTION_CREDENTIALS }, await readCiphertext(prisma, c), () => readCiphertext(prisma, c));
  return plain.toString("utf8");
}

/** The VaultError code a promise rejects with (or a description of what else happened). */
export async function failureCode(promise: Promise<unknown>): Promise<VaultErrorCode | string> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return isVaultError(error) ? error.code : `other error: ${(error as Error).message}`;
  }
}

/** The VaultError a promise rejects with; fails the test otherwise. */
export async function vaultError(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isVaultError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a VaultError, but the call succeeded");
}

/**
 * The fixture most vault tests share: a fresh database, a caching vault and an uncached one (another process, or a
 * cold worker: it reads and unwraps the data key on every open), both with master key v1. Read them inside tests.
 */
export function useTwoVaults(): { readonly db: TestDatabase; readonly vault: Vault; readonly cold: Vault; readonly keys: Record<string, MasterKey> } {
  const keys = masterKeys("v1");
  const state = {} as { db: TestDatabase; vault: Vault; cold: Vault };
  beforeAll(async () => {
    state.db = await createTestDatabase();
    state.vault = await createVault({ prisma: state.db.prisma, masterKeys: [keys["v1"]!] });
    state.cold = await createVault({ prisma: state.db.prisma, masterKeys: [keys["v1"]!], cache: { ttlMs: 0 } });
  });
  afterAll(async () => {
    state.vault?.close();
    state.cold?.close();
    await state.db?.drop();
  });
  return {
    get db() { return state.db; },
    get vault() { return state.vault; },
    get cold() { return state.cold; },
    keys,
  };
}
