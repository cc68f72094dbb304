import { uuidv7, type PrismaClient } from "@nagent/db";
import { generateApiKey } from "./api-key-secret";

export interface WorkspaceView {
  id: string;
  name: string;
  created_at: string;
}

export function createWorkspaceService(deps: { prisma: PrismaClient }) {
  const { prisma } = deps;
  return {
    /** Creates a workspace and its first API key in one transaction; the key's plaintext is returned once. */
    async create(name: string): Promise<{ workspace: WorkspaceView; apiKey: string; apiKeyId: string }> {
      const secret = generateApiKey();
      const workspaceId = uuidv7();
      const apiKeyId = uuidv7();
      const [workspace] = await prisma.$transaction([
        prisma.workspace.create({ data: { id: workspaceId, name } }),
        prisma.apiKey.create({ data: { id: apiKeyId, workspaceId, name: "default", prefix: secret.prefix, hash: secret.hash } }),
      ]);
      return {
        workspace: { id: workspace.id, name: workspace.name, created_at: workspace.createdAt.toISOString() },
        apiKey: secret.key,
        apiKeyId,
      };
    },
  };
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>;
