import type { ActionDetail, ActionSummary, FlowCheckResult, FlowIssue, IntegrationSummary, SchemaVersionDetail } from "@nagent/registry";

// Responses pick their fields: what the registry returns may grow without leaking into the API.

/** An action as lists show it. */
export function actionSummary(a: ActionSummary) {
  return { slug: a.slug, integration: a.integration, name: a.name, description: a.description, group: a.group };
}

/** An action with its current schemas, or with those of a stored `version`. */
export function actionDetail(a: ActionDetail, version?: SchemaVersionDetail) {
  const schemas = version === undefined ? a : { input_schema: version.input_schema, output_schema: version.output_schema, schema_version: version.version };
  return { ...actionSummary(a), input_schema: schemas.input_schema, output_schema: schemas.output_schema, schema_version: schemas.schema_version };
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
