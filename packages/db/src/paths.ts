import { fileURLToPath } from "node:url";

/** The repository's prisma/migrations folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));
