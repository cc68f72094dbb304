// `npm run vault:rewrap [-- --batch-size=N]`: rewraps every workspace data key to the active (last) master key of
// NAGENT_MASTER_KEYS, printing counts only. Resumable and safe to run twice or while the API and workers serve.
// Exit code 0 when nothing is left under an old master key, 1 otherwise (then the old key must stay).
import { loadConfig, readEnvironment } from "@nagent/config";
import { createDatabase } from "@nagent/db";
import { createVault } from "./create-vault";

const { env } = readEnvironment(process.env, { envFile: ".env.local", generate: false });
const batchArg = process.argv.slice(2).find((a) => a.startsWith("--batch-size="));
const batchSize = batchArg === undefined ? 100 : Number(batchArg.slice("--batch-size=".length));

let exitCode = 0;
let db: ReturnType<typeof createDatabase> | undefined;
try {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error("--batch-size must be an integer from 1 to 10000");
  // The admin token is not needed here; the keyring is.
  const config = loadConfig(env, { secrets: false });
  if (config.masterKeys.length === 0) throw new Error("NAGENT_MASTER_KEYS: is required (format v1:<base64 of 32 bytes>[,v2:<…>])");
  db = createDatabase({ url: config.databaseUrl, max: 2 });
  const vault = await createVault({ prisma: db.prisma, masterKeys: config.masterKeys, cache: { ttlMs: 0 } });
  try {
    console.log(`vault:rewrap: rewrapping data keys to master key "${vault.activeMasterKeyId}" in batches of ${batchSize}`);
    const result = await vault.rewrapAll({
      batchSize,
      onProgress: (p) => console.log(`  scanned ${p.scanned}, rewrapped ${p.rewrapped}, skipped ${p.skipped}, failed ${p.failed}`),
    });
    console.log(`vault:rewrap: ${result.rewrapped} rewrapped, ${result.skipped} skipped (changed meanwhile), ${result.failed} failed, ${result.remaining} remaining under other master keys`);
    for (const f of result.failures) console.log(`  failed: workspace_key ${f.id} (${f.code})`);
    if (result.remaining > 0) {
      console.log("vault:rewrap: keep the old master keys in NAGENT_MASTER_KEYS; run again (rows written meanwhile by processes with an older keyring are picked up).");
      exitCode = 1;
    } else {
      console.log("vault:rewrap: done; master keys other than the active one may now be removed from NAGENT_MASTER_KEYS.");
    }
  } finally {
    vault.close();
  }
} catch (error) {
  // Config and vault errors are written to be shown; none carries key material.
  console.error(`vault:rewrap: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await db?.close();
}
process.exit(exitCode);
