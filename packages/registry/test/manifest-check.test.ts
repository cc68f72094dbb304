import { afterAll, describe, expect, it } from "vitest";
import { checkManifestDirectory, loadRegistry, ManifestError, type ManifestProblem } from "@nagent/registry";
import { actionOf, brokenDemo, demoManifest, expectRefused, removeTemporaryDirectories, VALID_DIR, writeIntegrations, type BrokenCase, type Doc } from "./manifest-fixtures";

afterAll(removeTemporaryDirectories);

function problemsOf(dir: string): ManifestProblem[] {
  return [...checkManifestDirectory(dir).problems];
}

describe("manifest checks: the valid fixture", () => {
  it("passes every check and loads", () => {
    expect(problemsOf(VALID_DIR)).toEqual([]);
    const registry = loadRegistry(VALID_DIR);
    expect(registry.listIntegrations().map((i) => i.slug)).toEqual(["demo_app"]);
  });
});

/**
 * Each broken manifest differs from the valid fixture by one mistake, and must be refused for that mistake alone:
 * the test names the pointer (and action) the one problem must carry.
 */
/** Gives an action a `note` input sent in the JSON body. */
function addBodyNote(action: Doc): void {
  action.params.note = { in: "body" };
  action.input.properties.note = { type: "string", maxLength: 10, description: "A note." };
}

const cases: BrokenCase[] = [
  { name: "unknown top-level field", mutate: (d) => (d.colour = "red"), pointer: "/colour", message: /not an allowed property/ },
  { name: "unknown action field", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").method = "POST"), pointer: "/actions/0/method", action: "DEMO_CREATE_BATCH", message: /not an allowed property/ },
  { name: "bad action slug", mutate: (d) => (d.actions[1].slug = "demo_finalize"), pointer: "/actions/1/slug", action: "demo_finalize", message: /pattern/ },
  { name: "bad integration slug", mutate: (d) => (d.slug = "Demo-App"), pointer: "/slug", message: /pattern/ },
  { name: "bad `in` value", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").params.name.in = "header"), pointer: "/actions/0/params/name/in", action: "DEMO_CREATE_BATCH", message: /must be one of/ },
  { name: "style on a non-query param", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").params.name.style = "comma"), pointer: "/actions/0/params/name/in", action: "DEMO_CREATE_BATCH", message: /must be "query"/ },
  { name: "input property without description", mutate: (d) => delete actionOf(d, "DEMO_CREATE_BATCH").input.properties.name.description, pointer: "/actions/0/input/properties/name/description", action: "DEMO_CREATE_BATCH", message: /is required/ },
  { name: "input without examples", mutate: (d) => delete actionOf(d, "DEMO_FINALIZE_BATCH").input.examples, pointer: "/actions/1/input/examples", action: "DEMO_FINALIZE_BATCH", message: /is required/ },
  { name: "open input object", mutate: (d) => (actionOf(d, "DEMO_FINALIZE_BATCH").input.additionalProperties = true), pointer: "/actions/1/input/additionalProperties", action: "DEMO_FINALIZE_BATCH", message: /must be false/ },
  { name: "combinator at the top of an input", mutate: (d) => (actionOf(d, "DEMO_LIST_TASKS").input.anyOf = [{ required: ["status"] }, { required: ["tags"] }]), pointer: "/actions/5/input", action: "DEMO_LIST_TASKS", message: /not allowed/ },
  { name: "http base_url with a trailing slash", mutate: (d) => (d.base_url = "https://api.demo.example/"), pointer: "/base_url", message: /pattern/ },
  { name: "auth check without expected statuses", mutate: (d) => (d.auth.check.expect_status = []), pointer: "/auth/check/expect_status", message: /at least 1 item/ },
  { name: "unbounded string", mutate: (d) => delete actionOf(d, "DEMO_CREATE_BATCH").input.properties.name.maxLength, pointer: "/actions/0/input/properties/name", action: "DEMO_CREATE_BATCH", message: /string without maxLength/ },
  { name: "unbounded array", mutate: (d) => delete actionOf(d, "DEMO_CREATE_TASK").input.properties.tags.maxItems, pointer: "/actions/3/input/properties/tags", action: "DEMO_CREATE_TASK", message: /array without maxItems/ },
  { name: "unbounded string inside a shared $def", mutate: (d) => delete d.$defs.Attachment.properties.url.maxLength, pointer: "/$defs/Attachment/properties/url", message: /string without maxLength/ },
  { name: "free-form object without maxProperties", mutate: (d) => delete actionOf(d, "DEMO_CREATE_TASK").input.properties.metadata.maxProperties, pointer: "/actions/3/input/properties/metadata", action: "DEMO_CREATE_TASK", message: /free-form object without maxProperties/ },
  { name: "untyped input value", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").input.properties.callback = { description: "anything", anyOf: [{ type: "string", maxLength: 9 }, { description: "any" }] }), pointer: "/actions/0/input/properties/callback/anyOf/1", action: "DEMO_CREATE_BATCH", message: /any type without x-max-json-bytes/ },
  { name: "unbounded credential", mutate: (d) => delete d.auth.credentials.properties.api_key.maxLength, pointer: "/auth/credentials/properties/api_key", message: /string without maxLength/ },
  {
    name: "path variable that is not an input property",
    mutate: (d) => (actionOf(d, "DEMO_FINALIZE_BATCH").http.path = "/v1/batches/{batch_name}/{batch}/finalize"),
    pointer: "/actions/1/http/path",
    action: "DEMO_FINALIZE_BATCH",
    message: /\{batch\} is not an input property/,
  },
  { name: "path param missing from the path", mutate: (d) => (actionOf(d, "DEMO_SET_BATCH_SIZE").http.path = "/v1/batches"), pointer: "/actions/2/params/batch_name", action: "DEMO_SET_BATCH_SIZE", message: /has no \{batch_name\}/ },
  {
    name: "path variable that is not required",
    mutate: (d) => (actionOf(d, "DEMO_SET_BATCH_SIZE").input.required = ["size"]),
    pointer: "/actions/2/input/required",
    action: "DEMO_SET_BATCH_SIZE",
    message: /must be required/,
  },
  { name: "path variable sent in the body", mutate: (d) => (actionOf(d, "DEMO_SET_BATCH_SIZE").params.batch_name.in = "body"), pointer: "/actions/2/params/batch_name", action: "DEMO_SET_BATCH_SIZE", message: /must have "in": "path"/ },
  { name: "input property without params entry", mutate: (d) => delete actionOf(d, "DEMO_CREATE_BATCH").params.priority, pointer: "/actions/0/input/properties/priority", action: "DEMO_CREATE_BATCH", message: /no params entry/ },
  { name: "params entry without input property", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").params.colour = { in: "body" }), pointer: "/actions/0/params/colour", action: "DEMO_CREATE_BATCH", message: /names no input property/ },
  {
    name: "two body_raw params",
    mutate: (d) => {
      const a = actionOf(d, "DEMO_ADD_TASK_TAGS");
      a.params.more = { in: "body_raw" };
      a.input.properties.more = { type: "array", maxItems: 1, items: { type: "string", maxLength: 1 }, description: "More." };
    },
    pointer: "/actions/4/params",
    action: "DEMO_ADD_TASK_TAGS",
    message: /at most one body_raw/,
  },
  { name: "body_raw mixed with body", mutate: (d) => addBodyNote(actionOf(d, "DEMO_ADD_TASK_TAGS")), pointer: "/actions/4/params", action: "DEMO_ADD_TASK_TAGS", message: /cannot be mixed with body/ },
  { name: "form mixed with a JSON body", mutate: (d) => addBodyNote(actionOf(d, "DEMO_UPLOAD_FILE")), pointer: "/actions/7/params", action: "DEMO_UPLOAD_FILE", message: /multipart/ },
  { name: "two params on the same wire name", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").params.project.wire = "name"), pointer: "/actions/0/params/project", action: "DEMO_CREATE_BATCH", message: /both sent as body "name"/ },
  {
    name: "object sent in the query string",
    mutate: (d) => {
      const a = actionOf(d, "DEMO_LIST_TASKS");
      a.input.properties.filter = { type: "object", additionalProperties: false, properties: {}, description: "A filter." };
      a.params.filter = { in: "query" };
    },
    pointer: "/actions/5/params/filter",
    action: "DEMO_LIST_TASKS",
    message: /scalar or an array of scalars/,
  },
  { name: "file param that is not a file object", mutate: (d) => (actionOf(d, "DEMO_UPLOAD_FILE").input.properties.file.required = ["filename"]), pointer: "/actions/7/params/file", action: "DEMO_UPLOAD_FILE", message: /filename and content_base64/ },
  { name: "duplicate action slug", mutate: (d) => (d.actions[2].slug = "DEMO_FINALIZE_BATCH"), pointer: "/actions/2/slug", action: "DEMO_FINALIZE_BATCH", message: /duplicate action slug/ },
  { name: "$ref that does not resolve", mutate: (d) => (actionOf(d, "DEMO_FINALIZE_BATCH").output = { $ref: "#/$defs/Batchh" }), pointer: "/actions/1/output/$ref", action: "DEMO_FINALIZE_BATCH", message: /does not resolve/ },
  { name: "$ref outside $defs", mutate: (d) => (actionOf(d, "DEMO_FINALIZE_BATCH").output = { $ref: "https://example.com/batch.json" }), pointer: "/actions/1/output/$ref", action: "DEMO_FINALIZE_BATCH", message: /must point into the manifest's \$defs/ },
  { name: "unknown schema keyword (typo)", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").input.properties.priority.maximun = 10), pointer: "/actions/0/input/properties/priority/maximun", action: "DEMO_CREATE_BATCH", message: /unknown keyword "maximun"/ },
  { name: "nested $defs inside an action", mutate: (d) => (actionOf(d, "DEMO_FINALIZE_BATCH").output = { $defs: { X: {} }, type: "object" }), pointer: "/actions/1/output/$defs", action: "DEMO_FINALIZE_BATCH", message: /top-level \$defs/ },
  { name: "example that does not match its schema", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").input.examples[1].priority = 11), pointer: "/actions/0/input/examples/1/priority", action: "DEMO_CREATE_BATCH", message: /example does not match.*at most 10|<= 10/ },
  { name: "required name missing from properties (ajv strict)", mutate: (d) => actionOf(d, "DEMO_CREATE_BATCH").input.required.push("nmae"), pointer: "/actions/0/input", action: "DEMO_CREATE_BATCH", message: /does not compile.*nmae/ },
  { name: "on_conflict placeholder that is not an input", mutate: (d) => (actionOf(d, "DEMO_CREATE_TASK").on_conflict.lookup.query.unique_id = "{uid}"), pointer: "/actions/3/on_conflict/lookup/query/unique_id", action: "DEMO_CREATE_TASK", message: /\{uid\} is not an input property/ },
  { name: "on_conflict when_input that is not an input", mutate: (d) => (actionOf(d, "DEMO_CREATE_TASK").on_conflict.when_input = "uid"), pointer: "/actions/3/on_conflict/when_input", action: "DEMO_CREATE_TASK", message: /not an input property/ },
  { name: "reconcile by unique_id on an input that does not exist", mutate: (d) => (actionOf(d, "DEMO_CREATE_TASK").reconcile = { by: "unique_id", input: "uid" }), pointer: "/actions/3/reconcile/input", action: "DEMO_CREATE_TASK", message: /"uid" is not an input property/ },
  { name: "reconcile by unique_id on a required input", mutate: (d) => { const a = actionOf(d, "DEMO_CREATE_TASK"); a.reconcile = { by: "unique_id", input: "unique_id" }; a.input.required.push("unique_id"); a.input.examples.forEach((e: Record<string, unknown>) => (e.unique_id = "u1")); }, pointer: "/actions/3/reconcile/input", action: "DEMO_CREATE_TASK", message: /required: the platform could never assign it/ },
  { name: "reconcile by read_back without an on_conflict lookup", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").reconcile = { by: "read_back", compare: { project: "/project" } }), pointer: "/actions/0/reconcile", action: "DEMO_CREATE_BATCH", message: /needs an on_conflict lookup/ },
  { name: "reconcile read_back comparing a property that is not an input", mutate: (d) => (actionOf(d, "DEMO_CREATE_TASK").reconcile = { by: "read_back", compare: { projet: "/project" } }), pointer: "/actions/3/reconcile/compare/projet", action: "DEMO_CREATE_TASK", message: /"projet" is not an input property/ },
  { name: "reconcile on a read", mutate: (d) => (actionOf(d, "DEMO_LIST_TASKS").reconcile = "none"), pointer: "/actions/5/reconcile", action: "DEMO_LIST_TASKS", message: /GET action is a read/ },
  { name: "reconcile that is not a known kind", mutate: (d) => (actionOf(d, "DEMO_CREATE_BATCH").reconcile = "maybe"), pointer: "/actions/0/reconcile", action: "DEMO_CREATE_BATCH", message: /./ },
  { name: "auth hint that is not a credential", mutate: (d) => (d.auth.hint = "key"), pointer: "/auth/hint", message: /not a property of auth.credentials/ },
  { name: "auth apply field that is not a credential", mutate: (d) => (d.auth.apply.username = "apikey"), pointer: "/auth/apply/username", message: /not a property of auth.credentials/ },
  { name: "auth apply field that is optional", mutate: (d) => (d.auth.apply.username = "region"), pointer: "/auth/apply/username", message: /must be a required credential/ },
];

describe("manifest checks: each broken manifest is refused for its own reason", () => {
  it.each(cases)("$name", expectRefused);

  it("reports a file that is not JSON", () => {
    const problems = problemsOf(writeIntegrations({ demo_app: "{ not json" }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/not valid JSON/);
  });

  it("reports a manifest whose slug is not its directory's name", () => {
    const problems = problemsOf(writeIntegrations({ other_dir: demoManifest() }));
    expect(problems.map((p) => [p.pointer, p.message])).toEqual([["/slug", expect.stringMatching(/integrations\/other_dir\/ must have slug "other_dir"/)]]);
  });

  it("reports integration and action slugs used by two manifests", () => {
    const second = demoManifest();
    second.slug = "demo_two";
    const problems = problemsOf(writeIntegrations({ demo_app: demoManifest(), demo_two: second }));
    expect(problems.length).toBe(second.actions.length + second.triggers.length);
    expect(problems.every((p) => /demo_two\/manifest\.json$/.test(p.file) && /already used by .*demo_app/.test(p.message))).toBe(true);
    expect(problems[0]).toMatchObject({ action: "DEMO_CREATE_BATCH", pointer: "/actions/0/slug" });
    expect(problems.at(-1)).toMatchObject({ trigger: "DEMO_BATCH_DONE", pointer: "/triggers/1/slug", message: expect.stringMatching(/trigger slug DEMO_BATCH_DONE is already used by .*demo_app/) });
  });

  it("collects every problem of every manifest, and loadRegistry throws them all at once", () => {
    const dir = brokenDemo((d) => {
      delete actionOf(d, "DEMO_CREATE_BATCH").input.properties.name.maxLength;
      actionOf(d, "DEMO_FINALIZE_BATCH").http.path = "/v1/batches/{batch_name}/{batch}";
      d.auth.hint = "key";
    });
    expect(problemsOf(dir)).toHaveLength(3);
    let thrown: unknown;
    try {
      loadRegistry(dir);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ManifestError);
    const error = thrown as ManifestError;
    expect(error.problems).toHaveLength(3);
    expect(error.message).toMatch(/3 problems in integration manifests/);
    expect(error.message).toMatch(/demo_app\/manifest\.json: DEMO_CREATE_BATCH: \/actions\/0\/input\/properties\/name: string without maxLength/);
    expect(error.message).toMatch(/demo_app\/manifest\.json: DEMO_FINALIZE_BATCH: \/actions\/1\/http\/path: path variable \{batch\}/);
    expect(error.message).toMatch(/demo_app\/manifest\.json: \/auth\/hint: /);
  });
});
