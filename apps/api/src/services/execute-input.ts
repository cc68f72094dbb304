import { AppError } from "@nagent/errors";
import { maskSensitive, type Registry } from "@nagent/registry";
import { RUN_SENSITIVE_INPUT, type Vault } from "@nagent/vault";
import { checkOutboundUrl, type EgressPolicy } from "@nagent/runner";

/** Input properties holding URLs (or emails) the upstream will call or fetch; checked against the egress policy. */
const OUTBOUND_URL_FIELDS = new Set(["callback_url", "callback", "file_url"]);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Problem = { in: string; path: string; message: string; keyword: string };

/**
 * An execute's input, checked before anything is stored: against the action's current schema, then the rules a schema
 * does not say — outbound URLs allowed by the egress policy, file contents in standard base64. Throws
 * VALIDATION_FAILED with every problem in `details`.
 */
export function checkExecuteInput(registry: Registry, egress: EgressPolicy, slug: string, input: Record<string, unknown>): void {
  const result = registry.validateInput(slug, input);
  if (!result.valid) {
    const details = result.errors.map((e) => ({ in: "body", path: `/input${e.path}`, message: e.message, keyword: e.keyword }));
    throw new AppError("VALIDATION_FAILED", `The input does not match ${slug}'s schema: ${details[0]?.path ?? "/input"} ${details[0]?.message ?? "is invalid"}.`, { details });
  }
  const problems: Problem[] = [];
  const spec = registry.getRunSpec(slug);
  for (const [name, value] of Object.entries(input)) {
    if (OUTBOUND_URL_FIELDS.has(name) && typeof value === "string" && !(name !== "file_url" && EMAIL.test(value))) {
      const check = checkOutboundUrl(value, egress);
      if (!check.ok) problems.push({ in: "body", path: `/input/${name}`, message: check.reason, keyword: "egress" });
    }
    if (spec?.params[name]?.in === "file") {
      const content = (value as { content_base64?: unknown }).content_base64;
      if (typeof content !== "string" || content.length % 4 !== 0 || !BASE64.test(content)) {
        problems.push({ in: "body", path: `/input/${name}/content_base64`, message: "must be standard base64", keyword: "contentEncoding" });
      }
    }
  }
  const first = problems[0];
  if (first) throw new AppError("VALIDATION_FAILED", `The input is not acceptable: ${first.path} ${first.message}.`, { details: problems });
}

/**
 * The input as the run stores it. A create reconciled by unique_id gets one when the caller gave none
 * (`nagent_<run id>`, recorded as platform-assigned), so a retry after a lost answer can always find what the first
 * attempt created. Values the action marks sensitive are masked in the stored input and sealed by the vault for the
 * worker, which puts them back for the call only.
 */
export async function prepareRunInput(registry: Registry, vault: Vault, workspaceId: string, runId: string, slug: string, given: Record<string, unknown>) {
  const spec = registry.getRunSpec(slug);
  let input = given;
  const assigned: string[] = [];
  const reconcile = spec?.reconcile;
  if (typeof reconcile === "object" && reconcile.by === "unique_id" && given[reconcile.input] === undefined) {
    input = { ...given, [reconcile.input]: `nagent_${runId}` };
    assigned.push(reconcile.input);
  }
  const { masked, taken } = maskSensitive(input, spec?.sensitive.input ?? []);
  const sealed = taken.length === 0 ? null : await vault.seal(workspaceId, JSON.stringify(taken), { connectionId: runId, purpose: RUN_SENSITIVE_INPUT });
  return { input: masked as Record<string, unknown>, assigned, sealed };
}
