export { loadRegistry, createRegistry, type Registry, type ActionDetail, type ActionRunSpec, type ValidationResult, type VersionedSchemas, type VersionedTriggerSchema } from "./registry";
export { checkManifestDirectory, findManifestFiles, type LoadOptions, type CheckResult } from "./load-manifests";
export { ManifestError, formatProblem } from "./problems";
export { UnknownActionError, UnknownIntegrationError, UnknownTriggerError, InvalidCursorError } from "./errors";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type ActionPage, type ActionSummary, type AuthSummary, type IntegrationSummary, type ListActionsQuery } from "./catalogue";
export { formatAjvErrors, type ValidationIssue } from "./format-errors";
export { checkFlow, MAX_FLOW_STEPS, type FlowAction, type FlowTrigger, type FlowCheckResult, type FlowIssue, type FlowStep } from "./flow-check";
export { classifyActionChange, classifyTriggerChange, classifySchemaChange, combine, diffSchemas, type Classification, type Compatibility, type ChangeDirection, type SchemaChange, type SchemaRole } from "./compatibility";
export {
  syncSchemaVersions,
  listSchemaVersions,
  getSchemaVersion,
  syncTriggerSchemaVersions,
  listTriggerSchemaVersions,
  getTriggerSchemaVersion,
  type SyncedAction,
  type SyncedTrigger,
  type SchemaVersionSummary,
  type SchemaVersionDetail,
  type TriggerSchemaVersionDetail,
} from "./schema-versions";
export { toTool, toolName, vendorSchema, type ToolSource, type ToolDefinition, type OpenAiTool, type AnthropicTool, type McpTool } from "./tool-export";
export { toolRuleViolations, TOOL_FORMATS, ALLOWED_KEYWORDS, type ToolFormat } from "./tool-rules";
export { bundleSchema, inlineRefs } from "./bundle";
export { canonicalJson, contentHash } from "./canonical-json";
export { META_SCHEMA_PATH } from "./meta-schema";
export type { ActionManifest, AuthApply, AuthSpec, HttpMethod, IntegrationManifest, JsonSchema, JsonSchemaObject, ManifestProblem, OnConflictSpec, ParamLocation, ParamSpec, ReconcileSpec, TriggerFilterSpec, TriggerManifest, TriggerSource } from "./types";
export { type TriggerDef, type TriggerSummary, type TriggerPage, type ListTriggersQuery } from "./triggers";
export { type TriggerFilter } from "./compile-triggers";
export { PLATFORM_INTEGRATION, PLATFORM_TRIGGERS } from "./platform-triggers";
export { sensitivePaths, maskSensitive, restoreSensitive, MASK, X_SENSITIVE, type SensitivePath } from "./sensitive";
export { INTEGRATIONS_DIR } from "./paths";
export { createActionSearch, searchTerm, type ActionSearch } from "./search";
