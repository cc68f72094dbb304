import type { PrismaClient } from "@nagent/db";
import { VaultError } from "./errors";
import type { Keyring } from "./keyring";

/**
 * The boot check: every master key id that workspace_key references must be in the keyring. We fail at boot rather
 * than at first use because a missing master key makes every secret of the affected workspaces unopenable, and an
 * operator who dropped `v1` before `npm run vault:rewrap` finished should learn it from a refused deploy, not from
 * failed runs hours later. (A row wrapped by an unknown key later, by a process with another keyring, still fails
 * at use with the same code.)
 */
export async function assertKeyringCoversKeys(prisma: PrismaClient, keyring: Keyring): Promise<void> {
  // A loose index scan over workspace_key(master_key_id): one index probe per distinct id, however many rows.
  const rows = await prisma.$queryRaw<{ master_key_id: string }[]>`
    WITH RECURSIVE ids AS (
      (SELECT "master_key_id" FROM "workspace_key" ORDER BY "master_key_id" LIMIT 1)
      UNION ALL
      SELECT (SELECT k."master_key_id" FROM "workspace_key" k WHERE k."master_key_id" > ids."master_key_id" ORDER BY k."master_key_id" LIMIT 1)
      FROM ids WHERE ids."master_key_id" IS NOT NULL
    )
    SELECT "master_key_id" FROM ids WHERE "master_key_id" IS NOT NULL`;
  const missing = rows.map((r) => r.master_key_id).filter((id) => !keyring.has(id));
  if (missing.length > 0) {
    const names = missing.map((id) => `"${id}"`).join(", ");
    throw new VaultError(
      "UNKNOWN_MASTER_KEY",
      `Data keys are still wrapped by master key ${names}, which NAGENT_MASTER_KEYS does not hold. Put it back in the keyring (before the active key), run \`npm run vault:rewrap\` until it reports 0 remaining, and only then remove it.`,
    );
  }
}
