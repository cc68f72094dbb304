import { TRIGGER_SIGNING_SECRET, type Vault } from "@nagent/vault";

/**
 * The vault purpose of a subscription's signing secret. The envelope is bound to (workspace, subscription id, this
 * purpose): copied onto another subscription it does not open. Defined by the vault, whose data-key rotation
 * re-seals it (`SEALED_COLUMNS`).
 */
export { TRIGGER_SIGNING_SECRET };

export async function sealSubscriptionSecret(vault: Vault, workspaceId: string, subscriptionId: string, secret: string): Promise<Buffer> {
  await vault.ensureWorkspaceKey(workspaceId);
  return vault.seal(workspaceId, secret, { connectionId: subscriptionId, purpose: TRIGGER_SIGNING_SECRET });
}

/**
 * Opens a subscription's secret. With `reread` (the column read again), an envelope whose key version a data-key
 * rotation retired after it was read is read again and opened (the rotation re-sealed the column).
 */
export async function openSubscriptionSecret(vault: Vault, workspaceId: string, subscriptionId: string, envelope: Uint8Array, reread?: () => Promise<Uint8Array>): Promise<string> {
  const context = { connectionId: subscriptionId, purpose: TRIGGER_SIGNING_SECRET };
  const plain = reread === undefined
    ? await vault.open(workspaceId, envelope, context)
    : await vault.openLatest(workspaceId, context, envelope, reread);
  try {
    return plain.toString("utf8");
  } finally {
    plain.fill(0);
  }
}
