export { createVault, type Vault, type VaultOptions } from "./create-vault";
export { CONNECTION_CREDENTIALS, RUN_SENSITIVE_INPUT, TRIGGER_SIGNING_SECRET, type SecretContext } from "./context";
export { envelopeKeyVersion, MAX_PLAINTEXT_BYTES } from "./envelope";
export { VaultError, isVaultError, VAULT_ERROR_CODES, type VaultErrorCode } from "./errors";
export type { EnsureResult } from "./ensure-workspace-key";
export { SEALED_COLUMNS, type RotationResult, type SealedColumn, type SealedKind } from "./rotate-workspace-key";
export type { RewrapOptions, RewrapProgress, RewrapResult } from "./rewrap-all";
export type { KeyCacheOptions } from "./key-cache";
export { maskSecret } from "./mask-secret";

import { newKey as newDataKey } from "./aead";
import { createKeyring } from "./keyring";
import { wrapDataKey } from "./wrapped-key";

/**
 * Building blocks below the vault's surface, for tests that stage a state the surface never leaves behind (a data key
 * wrapped by a rotation that crashed before re-sealing). Not for application code: it goes through `createVault`.
 */
export const internalsForTests = { newDataKey, createKeyring, wrapDataKey } as const;
