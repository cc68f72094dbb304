import { defNameOf } from "./bundle";
import { findUnbounded } from "./input-bounds";
import { appendPointer, isPlainObject } from "./json-pointer";
import { ProblemList } from "./problems";
import { possibleTypes, typesWithin } from "./schema-types";
import { deref, refOf, resolveLocalRef, walkSchema } from "./schema-walk";
import { checkTriggers } from "./trigger-checks";
import type { ActionManifest, IntegrationManifest, JsonSchema, ManifestProblem, ParamLocation } from "./types";

/** `{name}` placeholders of a path template. */
export function pathVariables(path: string): string[] {
  return [...path.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
}

const JSON_BODY: readonly ParamLocation[] = ["body", "body_raw", "body_spread"];
const MULTIPART: readonly ParamLocation[] = ["form", "file"];
/** Keywords that would make a schema carry its own resolution scope, which bundling does not support. */
const SCOPE_KEYWORDS = ["$id", "$anchor", "$dynamicAnchor", "$dynamicRef", "$schema", "$defs", "definitions"];
/**
 * Every keyword of draft 2020-12 plus the format's own: anything else (a typo such as `maxLenght`, an OpenAPI-ism
 * such as `nullable` or `example`) is reported here with its pointer, before ajv's strict mode would refuse it
 * without one.
 */
const KNOWN_KEYWORDS: ReadonlySet<string> = new Set([
  ...["$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs"],
  ...["prefixItems", "items", "contains", "additionalProperties", "properties", "patternProperties", "dependentSchemas", "propertyNames"],
  ...["if", "then", "else", "allOf", "anyOf", "oneOf", "not", "unevaluatedItems", "unevaluatedProperties"],
  ...["type", "const", "enum", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern"],
  ...["maxItems", "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required", "dependentRequired"],
  ...["title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples", "format", "contentEncoding", "contentMediaType", "contentSchema"],
  "x-secret",
  "x-sensitive",
  "x-max-json-bytes",
]);

/**
 * The checks the meta-schema cannot express (FORMAT.md): references resolve, path variables and params match the
 * input, body kinds are not mixed, inputs are bounded, placeholders and credential fields exist. Assumes the
 * manifest already passed the meta-schema. Examples are checked later, against the compiled input validators.
 */
export function checkSemantics(file: string, manifest: IntegrationManifest, directoryName?: string): ManifestProblem[] {
  const problems = new ProblemList(file, manifest);
  // The directory is the slug, written with `-` or `_` (integrations/scale-ai/ holds slug scale_ai).
  if (directoryName !== undefined && directoryName.replace(/-/g, "_") !== manifest.slug) {
    problems.add("/slug", `the manifest of integrations/${directoryName}/ must have slug "${directoryName.replace(/-/g, "_")}", not "${manifest.slug}"`);
  }
  checkSchemas(manifest, problems);
  checkAuth(manifest, problems);
  const visitedDefs = new Set<string>();
  const seen = new Map<string, number>();
  manifest.actions.forEach((action, index) => {
    const at = appendPointer("", "actions", index);
    const first = seen.get(action.slug);
    if (first !== undefined) problems.add(`${at}/slug`, `duplicate action slug ${action.slug} (also actions[${first}])`);
    else seen.set(action.slug, index);
    checkParams(manifest, action, at, problems);
    checkOnConflict(action, at, problems);
    checkReconcile(action, at, problems);
    for (const place of findUnbounded(manifest.$defs ?? {}, action.input, `${at}/input`, visitedDefs)) problems.add(place.pointer, place.message);
  });
  checkTriggers(manifest, problems, visitedDefs);
  return problems.items;
}

/** Action and trigger slugs (one namespace) and integration slugs must be unique across all manifests too. */
export function checkUniqueAcross(manifests: readonly { file: string; manifest: IntegrationManifest }[]): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const integrations = new Map<string, string>();
  const actions = new Map<string, string>();
  for (const { file, manifest } of manifests) {
    const other = integrations.get(manifest.slug);
    if (other !== undefined) out.push({ file, pointer: "/slug", message: `integration slug ${manifest.slug} is already used by ${other}` });
    else integrations.set(manifest.slug, file);
    manifest.actions.forEach((action, i) => {
      const owner = actions.get(action.slug);
      if (owner !== undefined && owner !== file) out.push({ file, action: action.slug, pointer: `/actions/${i}/slug`, message: `action slug ${action.slug} is already used by ${owner}` });
      else actions.set(action.slug, file);
    });
    (manifest.triggers ?? []).forEach((trigger, i) => {
      const owner = actions.get(trigger.slug);
      if (owner !== undefined && owner !== file) out.push({ file, trigger: trigger.slug, pointer: `/triggers/${i}/slug`, message: `trigger slug ${trigger.slug} is already used by ${owner}` });
      else actions.set(trigger.slug, file);
    });
  }
  return out;
}

/**
 * Reports unknown keywords, nested resolution scopes (`$defs`, `$id`…) and `$ref`s that do not point into (or do
 * not resolve in) the manifest's top-level `$defs`, anywhere inside one manifest schema.
 */
export function checkSchemaShape(root: { readonly $defs?: unknown }, schema: JsonSchema, at: string, problems: ProblemList): void {
  walkSchema(schema, at, (sub, pointer) => {
    if (!isPlainObject(sub)) return;
    for (const keyword of Object.keys(sub)) {
      if (!KNOWN_KEYWORDS.has(keyword)) problems.add(appendPointer(pointer, keyword), `unknown keyword "${keyword}"`);
    }
    for (const keyword of SCOPE_KEYWORDS) {
      if (Object.hasOwn(sub, keyword)) {
        problems.add(appendPointer(pointer, keyword), `${keyword} is not allowed inside a manifest schema: shared schemas go in the manifest's top-level $defs`);
      }
    }
    const ref = refOf(sub);
    if (ref === undefined) return;
    if (defNameOf(ref) === undefined) problems.add(`${pointer}/$ref`, `$ref "${ref}" must point into the manifest's $defs (#/$defs/<Name>)`);
    else if (resolveLocalRef(root as unknown as JsonSchema, ref) === undefined) problems.add(`${pointer}/$ref`, `$ref "${ref}" does not resolve`);
  });
}

function checkSchemas(manifest: IntegrationManifest, problems: ProblemList): void {
  const check = (schema: JsonSchema, at: string): void => checkSchemaShape(manifest, schema, at, problems);
  for (const [name, def] of Object.entries(manifest.$defs ?? {})) check(def, appendPointer("", "$defs", name));
  manifest.actions.forEach((action, i) => {
    check(action.input, `/actions/${i}/input`);
    check(action.output, `/actions/${i}/output`);
  });
  (manifest.triggers ?? []).forEach((trigger, i) => {
    check(trigger.payload, `/triggers/${i}/payload`);
    for (const [name, filter] of Object.entries(trigger.filters)) check(filter.schema, appendPointer("", "triggers", i, "filters", name, "schema"));
  });
  check(manifest.auth.credentials, "/auth/credentials");
}

function checkAuth(manifest: IntegrationManifest, problems: ProblemList): void {
  const { credentials, apply, hint } = manifest.auth;
  const fields = isPlainObject(credentials["properties"]) ? credentials["properties"] : {};
  const required = Array.isArray(credentials["required"]) ? (credentials["required"] as unknown[]) : [];
  const field = (name: string, pointer: string, what: string): void => {
    if (!Object.hasOwn(fields, name)) problems.add(pointer, `${what} "${name}" is not a property of auth.credentials`);
    else if (!required.includes(name)) problems.add(pointer, `${what} "${name}" must be a required credential`);
  };
  field(hint, "/auth/hint", "hint field");
  if (apply.type === "basic") field(apply.username, "/auth/apply/username", "apply.username");
  if (apply.type === "bearer") field(apply.token, "/auth/apply/token", "apply.token");
  if (apply.type === "header") field(apply.value, "/auth/apply/value", "apply.value");
  for (const place of findUnbounded({}, credentials, "/auth/credentials", new Set())) problems.add(place.pointer, place.message);
}

function checkParams(manifest: IntegrationManifest, action: ActionManifest, at: string, problems: ProblemList): void {
  const root = manifest as unknown as JsonSchema;
  const properties = isPlainObject(action.input["properties"]) ? (action.input["properties"] as Record<string, JsonSchema>) : {};
  const required = Array.isArray(action.input["required"]) ? (action.input["required"] as unknown[]) : [];
  for (const name of Object.keys(properties)) {
    if (!Object.hasOwn(action.params, name)) problems.add(appendPointer(at, "input", "properties", name), `input property "${name}" has no params entry: say where it goes on the wire`);
  }
  for (const name of Object.keys(action.params)) {
    if (!Object.hasOwn(properties, name)) problems.add(appendPointer(at, "params", name), `params entry "${name}" names no input property`);
  }

  const variables = pathVariables(action.http.path);
  for (const name of variables) {
    const pointer = `${at}/http/path`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.add(pointer, `path placeholder {${name}} is not a valid name`);
    else if (!Object.hasOwn(properties, name)) problems.add(pointer, `path variable {${name}} is not an input property`);
    else if (action.params[name]?.in !== "path") problems.add(appendPointer(at, "params", name), `path variable {${name}} must have "in": "path"`);
    else if (!required.includes(name)) problems.add(`${at}/input/required`, `path variable {${name}} must be required`);
  }

  const byLocation = new Map<ParamLocation, string[]>();
  const wireNames = new Map<string, string>();
  for (const [name, spec] of Object.entries(action.params)) {
    const pointer = appendPointer(at, "params", name);
    byLocation.set(spec.in, [...(byLocation.get(spec.in) ?? []), name]);
    if (spec.in === "path" && !variables.includes(name)) problems.add(pointer, `"${name}" is "in": "path" but ${action.http.path} has no {${name}}`);
    if (spec.wire !== undefined && spec.in === "path") problems.add(`${pointer}/wire`, "a path parameter has no wire name: the placeholder is the input property");
    // Two params landing on the same name in the same place would overwrite each other.
    if (["query", "body", "form", "file"].includes(spec.in)) {
      const key = `${spec.in === "file" ? "form" : spec.in}:${spec.wire ?? name}`;
      const clash = wireNames.get(key);
      if (clash !== undefined) problems.add(pointer, `"${name}" and "${clash}" are both sent as ${spec.in} "${spec.wire ?? name}"`);
      else wireNames.set(key, name);
    }
    const property = properties[name];
    if (property !== undefined) checkParamType(root, property, spec, pointer, name, problems);
  }

  const raw = byLocation.get("body_raw") ?? [];
  if (raw.length > 1) problems.add(`${at}/params`, `at most one body_raw param per action (found ${raw.join(", ")})`);
  if (raw.length > 0 && ((byLocation.get("body")?.length ?? 0) > 0 || (byLocation.get("body_spread")?.length ?? 0) > 0)) {
    problems.add(`${at}/params`, "a body_raw param is the whole body: it cannot be mixed with body or body_spread params");
  }
  const json = JSON_BODY.flatMap((l) => byLocation.get(l) ?? []);
  const multipart = MULTIPART.flatMap((l) => byLocation.get(l) ?? []);
  if (json.length > 0 && multipart.length > 0) problems.add(`${at}/params`, `form/file params make the body multipart: they cannot be mixed with JSON body params (${json.join(", ")})`);
  if ((byLocation.get("file")?.length ?? 0) > 1) problems.add(`${at}/params`, "at most one file param per action: it is the multipart file part");
}

function checkParamType(root: JsonSchema, property: JsonSchema, spec: ActionManifest["params"][string], pointer: string, name: string, problems: ProblemList): void {
  const types = possibleTypes(root, property);
  const scalar = ["string", "number", "integer", "boolean"] as const;
  if (spec.in === "path" && !typesWithin(types, ["string", "number", "integer"])) problems.add(pointer, `path parameter "${name}" must be a string or a number`);
  if (spec.in === "query") {
    const itemTypes = types?.has("array") ? arrayItemTypes(root, property) : undefined;
    const ok = typesWithin(types, [...scalar, "array"]) && (!types?.has("array") || typesWithin(itemTypes, [...scalar]));
    if (!ok) problems.add(pointer, `query parameter "${name}" must be a scalar or an array of scalars`);
    if (spec.style === "comma" && !types?.has("array")) problems.add(`${pointer}/style`, `"style": "comma" applies to arrays, and "${name}" is not one`);
  }
  if (spec.in === "body_spread" && !typesWithin(types, ["object"])) problems.add(pointer, `body_spread parameter "${name}" must be an object (its keys are merged into the body)`);
  if (spec.in === "file") {
    const s = deref(root, property);
    const props = isPlainObject(s) && isPlainObject(s["properties"]) ? s["properties"] : {};
    const req = isPlainObject(s) && Array.isArray(s["required"]) ? s["required"] : [];
    if (!typesWithin(types, ["object"]) || !Object.hasOwn(props, "filename") || !Object.hasOwn(props, "content_base64") || !req.includes("filename") || !req.includes("content_base64")) {
      problems.add(pointer, `file parameter "${name}" must be an object requiring filename and content_base64`);
    }
  }
}

function arrayItemTypes(root: JsonSchema, property: JsonSchema) {
  const s = deref(root, property);
  const items = isPlainObject(s) ? s["items"] : undefined;
  return items === undefined ? undefined : possibleTypes(root, items as JsonSchema);
}

function checkOnConflict(action: ActionManifest, at: string, problems: ProblemList): void {
  const conflict = action.on_conflict;
  if (conflict === undefined) return;
  const properties = isPlainObject(action.input["properties"]) ? action.input["properties"] : {};
  if (!Object.hasOwn(properties, conflict.when_input)) problems.add(`${at}/on_conflict/when_input`, `"${conflict.when_input}" is not an input property`);
  const placeholders: [string, string][] = pathVariables(conflict.lookup.path).map((v) => [v, `${at}/on_conflict/lookup/path`]);
  for (const [key, value] of Object.entries(conflict.lookup.query ?? {})) {
    for (const v of pathVariables(value)) placeholders.push([v, appendPointer(at, "on_conflict", "lookup", "query", key)]);
  }
  for (const [name, pointer] of placeholders) {
    if (!Object.hasOwn(properties, name)) problems.add(pointer, `placeholder {${name}} is not an input property`);
  }
}

/**
 * A reconcile declaration must be usable: reads need none; `unique_id` and `read_back` need an `on_conflict` lookup
 * (it is what finds the object), `unique_id`'s input must be the lookup's `when_input` and an optional string input
 * (the platform assigns it), and `read_back` compares input properties only.
 */
function checkReconcile(action: ActionManifest, at: string, problems: ProblemList): void {
  const reconcile = action.reconcile;
  if (reconcile === undefined) return;
  const pointer = `${at}/reconcile`;
  if (action.http.method === "GET") {
    problems.add(pointer, "a GET action is a read: it needs no reconcile declaration");
    return;
  }
  if (typeof reconcile === "string") return;
  if (!action.on_conflict) {
    problems.add(pointer, `reconcile by ${reconcile.by} needs an on_conflict lookup to find the object`);
    return;
  }
  const properties = isPlainObject(action.input["properties"]) ? action.input["properties"] : {};
  if (reconcile.by === "unique_id") {
    const schema = properties[reconcile.input];
    if (!Object.hasOwn(properties, reconcile.input)) problems.add(`${pointer}/input`, `"${reconcile.input}" is not an input property`);
    else if (!isPlainObject(schema) || schema["type"] !== "string") problems.add(`${pointer}/input`, `"${reconcile.input}" must be a string property (the platform assigns it)`);
    if (action.on_conflict.when_input !== reconcile.input) problems.add(`${pointer}/input`, `must be on_conflict's when_input ("${action.on_conflict.when_input}")`);
    const required = Array.isArray(action.input["required"]) ? action.input["required"] : [];
    if (required.includes(reconcile.input)) problems.add(`${pointer}/input`, `"${reconcile.input}" is required: the platform could never assign it`);
    return;
  }
  for (const name of Object.keys(reconcile.compare)) {
    if (!Object.hasOwn(properties, name)) problems.add(appendPointer(at, "reconcile", "compare", name), `"${name}" is not an input property`);
  }
}
