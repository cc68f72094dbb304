import type { ActionSummary, FlowCheckResult, FlowIssue, IntegrationSummary } from "@nagent/registry";

// Responses pick their fields: what the registry returns may grow without leaking into the API.

/** An action as lists show it. */
export function actionSummary(a: ActionSummary) {
  return { slug: a.slug, integration: a.integration, name: a.name, description: a.description, group: a.group };
}

/** An integration with how it authenticates (field names and flags, never a credential). */
export function integrationSummary(i: IntegrationSummary) {
  return {
    slug: i.slug,
    name: i.name,
    description: i.description,
    version: i.version,
    categories: [...i.categories],
    auth: { type: i.auth.type, scheme: i.auth.scheme, fields: i.auth.fields.map(({ name, description, secret, required }) => ({ name, description, secret, required })) },
    actions_count: i.actions_count,
  };
}

/** The flow check's result: errors and warnings as `{step, path, message}`. */
export function flowCheckView(result: FlowCheckResult) {
  const issue = ({ step, path, message }: FlowIssue) => ({ step, path, message });
  return { valid: result.valid, errors: result.errors.map(issue), warnings: result.warnings.map(issue) };
}
