import type { PrismaClient } from "@nagent/db";
import type { KeyCache } from "./key-cache";

/**
 * Crypto-shredding: deletes every data key row of the workspace and this process's cached copies. Without its data
 * key no ciphertext of the workspace can be opened again, wherever copies of the ciphertext survive. Limits (see
 * README): other processes may keep a cached key up to the cache TTL, and PostgreSQL's dead tuples, WAL and backups
 * keep the wrapped key until they are recycled; those copies are useless once the master key that wrapped them is
 * rotated away and destroyed.
 */
export async function destroyWorkspaceKeys(deps: { prisma: PrismaClient; cache: KeyCache }, workspaceId: string): Promise<{ destroyed: number }> {
  const { count } = await deps.prisma.workspaceKey.deleteMany({ where: { workspaceId } });
  deps.cache.forgetWorkspace(workspaceId);
  return { destroyed: count };
}
