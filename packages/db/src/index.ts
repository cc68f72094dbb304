export { createDatabase, type Database, type DatabaseOptions, type PrismaClient } from "./client";
export { migrate, ensureDatabaseExists, listMigrations, quoteIdent, type MigrateResult } from "./migrate";
export { MIGRATIONS_DIR } from "./paths";
export { uuidv7, isUuid } from "./ids";
export { Prisma } from "./generated/client";
export { scopeToWorkspace, type ScopedClient } from "./scope";
export { createPgListener, type PgListener } from "./listener";
export {
  recordConnectionTransition, listConnectionEvents, connectionStatusChangedPayload, CONNECTION_STATUSES, CONNECTION_STATUS_CHANGED_TRIGGER,
  type ConnectionStatus, type ConnectionTransition, type ConnectionEventRow, type TransitionRequest,
} from "./connection-health";
export { readConnectionCiphertext } from "./connection-ciphertext";
export { statusIn } from "./sql";
