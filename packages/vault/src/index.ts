export { createVault, type Vault, type VaultOptions } from "./create-vault";
export { CONNECTION_CREDENTIALS, RUN_SENSITIVE_INPUT, TRIGGER_SIGNING_SECRET, type SecretContext } from "./context";
export { envelopeKeyVersion, MAX_PLAINTEXT_BYTES } from "./envelope";
export { VaultError, isVaultError, VAULT_ERROR_CODES, type VaultErrorCode } from "./errors";
export type { EnsureResult } from "./ensure-workspace-key";
export { SEALED_COLUMNS, type RotationResult, type SealedColumn, type SealedKind } from "./rotate-workspace-key";
export type { RewrapOptions, RewrapProgress, RewrapResult } from "./rewrap-all";
export type { KeyCacheOptions } from "./key-cache";
export { maskSecret } from "./mask-secret";
