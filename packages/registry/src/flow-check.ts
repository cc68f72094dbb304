import type { ValidateFunction } from "ajv";
import { formatAjvErrors, labelOf } from "./format-errors";
import { appendPointer, isPlainObject } from "./json-pointer";
import { schemaAtPath } from "./schema-path";
import { describeTypes, possibleTypes } from "./schema-types";
import { deref, type JsonType } from "./schema-walk";
import type { JsonSchema } from "./types";

/** One step of a flow as the caller sent it (unchecked). */
export interface FlowStep {
  readonly id?: unknown;
  readonly action?: unknown;
  /** A trigger slug: the flow starts with that trigger's event (first step only, no input). */
  readonly trigger?: unknown;
  readonly input?: unknown;
}

/** A problem in one step: `step` is its id (or `#<index>` when it has none), `path` a JSON pointer into its input. */
export interface FlowIssue {
  readonly step: string;
  readonly path: string;
  readonly message: string;
}

export interface FlowCheckResult {
  readonly valid: boolean;
  readonly errors: readonly FlowIssue[];
  /** What may go wrong at run time without being certain to: a referenced value that may be absent or null. */
  readonly warnings: readonly FlowIssue[];
}

/** What the flow check needs to know of an action. */
export interface FlowAction {
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  readonly validateInput: ValidateFunction;
}

/** What the flow check needs to know of a trigger: the schema of its event's `data`. */
export interface FlowTrigger {
  readonly payloadSchema: JsonSchema;
}

export const MAX_FLOW_STEPS = 100;
const STEP_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const REFERENCE = /^steps\.([^.]*)\.data(?:\.(.*))?$/;
const MAX_DEPTH = 32;

/**
 * Checks a flow without running it: steps run in order, and an input value anywhere inside a step's input may be
 * `{"$ref": "steps.<id>.data.<path>"}`, the `data` of an earlier step's output (path tokens split by `.`, numeric
 * tokens index arrays). Every problem is reported, not the first: unknown actions, bad or duplicate step ids,
 * references to missing, later or the same step, paths the referenced action's output schema does not declare,
 * types that do not fit the input at that place, and the rest of each input against the action's input schema
 * (a reference counts as satisfying its place when its type fits).
 *
 * The first step may instead be `{"id", "trigger": "<TRIGGER_SLUG>"}` (no input): the event that starts the flow.
 * References to it resolve against the trigger's payload schema (the event's `data`) exactly as references to an
 * action resolve against its output schema. A trigger anywhere but first, a step with both an action and a
 * trigger, or a trigger step with an input is an error.
 *
 * Decision: a referenced value that the output schema does not require (or that may be `null`) while the input
 * requires a non-null value there is a *warning*, not an error: upstream answers usually carry such fields, and
 * refusing every flow over them would refuse useful flows. Types that cannot fit are errors.
 */
export function checkFlow(steps: unknown, lookup: (slug: string) => FlowAction | undefined, lookupTrigger: (slug: string) => FlowTrigger | undefined = () => undefined): FlowCheckResult {
  const errors: FlowIssue[] = [];
  const warnings: FlowIssue[] = [];
  if (!Array.isArray(steps)) return { valid: false, errors: [{ step: "", path: "", message: "steps must be an array" }], warnings };
  if (steps.length === 0) errors.push({ step: "", path: "", message: "a flow needs at least one step" });
  if (steps.length > MAX_FLOW_STEPS) return { valid: false, errors: [{ step: "", path: "", message: `a flow has at most ${MAX_FLOW_STEPS} steps` }], warnings };

  // First pass: ids and actions, so a reference can name any step (and be told when that step runs later).
  const index = new Map<string, number>();
  const labels: string[] = [];
  const actions: (FlowAction | undefined)[] = [];
  /** What each step's `data` is: an action's output or a trigger's payload (undefined when unknown). */
  const sources: ({ schema: JsonSchema; what: string } | undefined)[] = [];
  const isTriggerStep: boolean[] = [];
  steps.forEach((raw: unknown, i) => {
    const step: FlowStep = isPlainObject(raw) ? raw : {};
    const id = typeof step.id === "string" && step.id !== "" ? step.id : undefined;
    const label = id ?? `#${i}`;
    labels.push(label);
    if (!isPlainObject(raw)) errors.push({ step: label, path: "", message: "a step must be an object {id, action, input} (or, first, {id, trigger})" });
    if (id === undefined) errors.push({ step: label, path: "", message: "the step has no id" });
    else if (!STEP_ID.test(id)) errors.push({ step: label, path: "", message: `step id "${id}" must start with a letter or _ and hold only letters, digits, _ and - (64 at most)` });
    else if (index.has(id)) errors.push({ step: label, path: "", message: `step id "${id}" is used twice (also step #${index.get(id)!})` });
    else index.set(id, i);
    if (isPlainObject(raw) && Object.hasOwn(raw, "trigger")) {
      isTriggerStep.push(true);
      actions.push(undefined);
      const trigger = typeof step.trigger === "string" ? lookupTrigger(step.trigger) : undefined;
      if (typeof step.trigger !== "string") errors.push({ step: label, path: "", message: "trigger must be a trigger slug" });
      else if (trigger === undefined) errors.push({ step: label, path: "", message: `unknown trigger ${JSON.stringify(step.trigger).slice(0, 140)}` });
      if (i !== 0) errors.push({ step: label, path: "", message: "a trigger can only be the first step: it is the event that starts the flow" });
      if (Object.hasOwn(raw, "action")) errors.push({ step: label, path: "", message: "a step is an action or a trigger, not both" });
      if (Object.hasOwn(raw, "input")) errors.push({ step: label, path: "", message: "a trigger step has no input: its data is the event's" });
      sources.push(trigger === undefined ? undefined : { schema: trigger.payloadSchema, what: `the payload of ${String(step.trigger)}` });
      return;
    }
    isTriggerStep.push(false);
    const action = typeof step.action === "string" ? lookup(step.action) : undefined;
    actions.push(action);
    sources.push(action === undefined ? undefined : { schema: action.outputSchema, what: `the output of ${String(step.action)}` });
    if (typeof step.action !== "string") errors.push({ step: label, path: "", message: "the step has no action" });
    else if (action === undefined) errors.push({ step: label, path: "", message: `unknown action ${JSON.stringify(step.action).slice(0, 140)}` });
  });

  steps.forEach((raw: unknown, i) => {
    if (isTriggerStep[i]) return;
    const label = labels[i]!;
    const action = actions[i];
    const input = isPlainObject(raw) ? raw["input"] : undefined;
    const references: { pointer: string; ref: string }[] = [];
    findReferences(input, "", 0, references, (path, message) => errors.push({ step: label, path, message }));

    for (const { pointer, ref } of references) {
      const report = (message: string): void => void errors.push({ step: label, path: pointer, message });
      const match = REFERENCE.exec(ref);
      if (match === null) {
        report(`reference "${ref.slice(0, 200)}" must look like steps.<id>.data.<path>`);
        continue;
      }
      const targetId = match[1]!;
      const tokens = match[2] === undefined ? [] : match[2].split(".");
      if (tokens.some((t) => t === "")) {
        report(`reference "${ref}" has an empty path segment`);
        continue;
      }
      const target = index.get(targetId);
      if (target === undefined) {
        report(`reference to step "${targetId}", which does not exist`);
        continue;
      }
      if (target === i) {
        report(`a step cannot refer to its own output ("${targetId}")`);
        continue;
      }
      if (target > i) {
        report(`reference to step "${targetId}", which runs later (steps run in order)`);
        continue;
      }
      const source = sources[target];
      if (source === undefined) continue; // that step's unknown action or trigger is already reported
      const resolved = schemaAtPath(source.schema, source.schema, tokens);
      if (!resolved.ok) {
        const shown = ["data", ...tokens.slice(0, resolved.at + 1)].join(".");
        report(`${shown} is not in ${source.what} (step "${targetId}"): ${resolved.reason}`);
        continue;
      }
      if (action === undefined) continue;
      const place = inputPlace(action.inputSchema, pointer);
      if (place === undefined) continue; // not an input property: the schema validation below says so
      const fit = compareTypes(source.schema, resolved.found.schema, action.inputSchema, place.schema);
      const what = `steps.${targetId}.data${tokens.length > 0 ? `.${tokens.join(".")}` : ""}`;
      const where = labelOf(pointer);
      if (fit.kind === "error") report(`${what} is ${fit.from}, but ${where} expects ${fit.to}`);
      else if (fit.kind === "nullable") warnings.push({ step: label, path: pointer, message: `${what} may be null, but ${where} expects ${fit.to}` });
      else if (fit.kind === "unknown") warnings.push({ step: label, path: pointer, message: `the output schema does not say what type ${what} is; ${where} expects ${fit.to}` });
      if (resolved.found.optional && place.required) {
        warnings.push({ step: label, path: pointer, message: `${what} may be absent from ${source.what}, and ${where} is required` });
      }
    }

    if (action === undefined) return;
    if (!isPlainObject(input)) {
      errors.push({ step: label, path: "", message: "the step's input must be an object" });
      return;
    }
    if (action.validateInput(input)) return;
    for (const issue of formatAjvErrors(action.validateInput.errors)) {
      if (references.some((r) => coveredByReference(issue.path, issue.keyword, r.pointer))) continue;
      errors.push({ step: label, path: issue.path, message: issue.message });
    }
  });
  return { valid: errors.length === 0, errors, warnings };
}

/**
 * A validation error at a reference's place (or inside the `{"$ref"}` object) is about the placeholder, not the
 * value it will become; the type check above judges those. An `additionalProperties` error *at* the place is kept:
 * the property itself is not allowed, whatever its value.
 */
function coveredByReference(path: string, keyword: string, refPointer: string): boolean {
  if (path.startsWith(`${refPointer}/`)) return true;
  return path === refPointer && keyword !== "additionalProperties";
}

function findReferences(value: unknown, pointer: string, depth: number, out: { pointer: string; ref: string }[], error: (path: string, message: string) => void): void {
  if (depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => findReferences(v, appendPointer(pointer, i), depth + 1, out, error));
    return;
  }
  if (!isPlainObject(value)) return;
  if (Object.hasOwn(value, "$ref")) {
    const ref = value["$ref"];
    if (typeof ref !== "string") error(pointer, "$ref must be a string steps.<id>.data.<path>");
    else if (Object.keys(value).length !== 1) error(pointer, "a reference is an object with $ref and nothing else");
    else out.push({ pointer, ref });
    return;
  }
  for (const [key, v] of Object.entries(value)) findReferences(v, appendPointer(pointer, key), depth + 1, out, error);
}

/** The input schema at a reference's place, and whether that place is required by its parent. */
function inputPlace(inputSchema: JsonSchema, pointer: string): { schema: JsonSchema; required: boolean } | undefined {
  const tokens = pointer.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (tokens.length === 0) return { schema: inputSchema, required: true };
  const parent = schemaAtPath(inputSchema, inputSchema, tokens.slice(0, -1));
  if (!parent.ok) return undefined;
  const place = schemaAtPath(inputSchema, parent.found.schema, tokens.slice(-1));
  return place.ok ? { schema: place.found.schema, required: !place.found.optional } : undefined;
}

type Fit = { kind: "ok" } | { kind: "unknown"; to: string } | { kind: "nullable"; to: string } | { kind: "error"; from: string; to: string };

/**
 * Whether a value of the output schema fits the input schema, by JSON type (and, for arrays, by item type):
 * `integer` fits `number`, `number` does not fit `integer`, and `null` alone is a warning when other types fit.
 */
function compareTypes(outRoot: JsonSchema, out: JsonSchema, inRoot: JsonSchema, into: JsonSchema, depth = 0): Fit {
  const accepted = possibleTypes(inRoot, into);
  const given = possibleTypes(outRoot, out);
  if (accepted === undefined) return { kind: "ok" };
  const to = describeTypes(accepted);
  if (given === undefined) return { kind: "unknown", to };
  const nonNull = [...given].filter((t) => t !== "null" && !(t === "integer" && given.has("number")));
  const misfit = nonNull.filter((t: JsonType) => !accepted.has(t));
  if (nonNull.length === 0 || misfit.length > 0) return { kind: "error", from: describeTypes(given), to };
  if (depth < 4 && nonNull.includes("array") && accepted.has("array")) {
    const outItems = itemsOf(outRoot, out);
    const inItems = itemsOf(inRoot, into);
    if (outItems !== undefined && inItems !== undefined) {
      const inner = compareTypes(outRoot, outItems, inRoot, inItems, depth + 1);
      if (inner.kind === "error") return { kind: "error", from: `an array of ${inner.from}`, to: `an array of ${inner.to}` };
    }
  }
  if (given.has("null") && !accepted.has("null")) return { kind: "nullable", to };
  return { kind: "ok" };
}

function itemsOf(root: JsonSchema, schema: JsonSchema): JsonSchema | undefined {
  const s = deref(root, schema);
  return isPlainObject(s) && (typeof s["items"] === "boolean" || isPlainObject(s["items"])) ? (s["items"] as JsonSchema) : undefined;
}
