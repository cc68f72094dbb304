/**
 * Compile-time tests of the SDK's typing, checked by `tsc -p .` (the first step of `npm test`); never run. Each
 * `@ts-expect-error` marks a misuse that must not compile: if the typing regresses (a slug, field or type accepted
 * that should not be), the directive is unused and tsc fails the build.
 */
import {
  Nagent, NagentApiError, NotFoundError, createWebhookHandler, verifyWebhook,
  type ActionInput, type ActionOutput, type ActionSlug, type ExecuteResult, type RunSummary, type WebhookEvent,
} from "@nagent/sdk";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_value?: T): void {}

declare const client: Nagent;

export async function actions(): Promise<void> {
  // A correct input compiles; `data` is the output schema's type once `successful` narrows the envelope.
  const batch = await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: "b1", project: "p1" });
  if (batch.successful) {
    const status: "staging" | "in_progress" | "completed" = batch.data.status;
    const name: string = batch.data.name;
    void status, name;
  } else {
    const code: string = batch.error.code;
    // @ts-expect-error data is null when the run failed
    void batch.data.name;
    void code;
  }
  assertType<Equal<typeof batch, ExecuteResult<"SCALE_AI_CREATE_BATCH">>>();

  // @ts-expect-error unknown action slug
  await client.actions.execute("SCALE_AI_CREATE_BATCHES", { name: "b1", project: "p1" });
  // @ts-expect-error wrong field: `projects` is not an input of SCALE_AI_CREATE_BATCH
  await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: "b1", project: "p1", projects: "p2" });
  // @ts-expect-error wrong type: `name` is a string
  await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: 42, project: "p1" });
  // @ts-expect-error missing required field `project`
  await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: "b1" });
  // @ts-expect-error wrong enum-free scalar: `limit` is a number
  await client.actions.execute("SCALE_AI_LIST_PROJECTS", { limit: "10" });
  // @ts-expect-error an input of another action
  await client.actions.execute("SCALE_AI_GET_BATCH", { project_name: "p1" });

  const projects = await client.actions.execute("SCALE_AI_LIST_PROJECTS", { limit: 10 });
  if (projects.successful) {
    const first: string | undefined = projects.data[0]?.name;
    // @ts-expect-error a project's name is a string
    const wrong: number | undefined = projects.data[0]?.name;
    void wrong;
    void first;
  }

  // validate and enqueue are typed the same way.
  await client.actions.validate("SCALE_AI_GET_BATCH", { batch_name: "b1" });
  // @ts-expect-error wrong field in validate
  await client.actions.validate("SCALE_AI_GET_BATCH", { batch: "b1" });
  // @ts-expect-error unknown slug in validate
  await client.actions.validate("NOT_AN_ACTION", {});
  const queued = await client.actions.enqueue("SCALE_AI_GET_PROJECT", { project_name: "p1" });
  const runId: string = queued.run_id;
  // @ts-expect-error wrong type in enqueue
  await client.actions.enqueue("SCALE_AI_GET_PROJECT", { project_name: ["p1"] });
  void runId;

  // The helper types name the same things.
  assertType<Equal<ActionInput<"SCALE_AI_GET_BATCH">, { batch_name: string }>>();
  assertType<Equal<"SCALE_AI_CREATE_BATCH" extends ActionSlug ? true : false, true>>();
  assertType<Equal<"SCALE_AI_NOPE" extends ActionSlug ? true : false, false>>();
  const output: ActionOutput<"SCALE_AI_GET_BATCH"> | null = null;
  void output;
}

export async function runs(): Promise<void> {
  // @ts-expect-error `status` is one of the run statuses
  client.runs.list({ status: "broken" });
  for await (const run of client.runs.list({ status: "failed", limit: 50 })) {
    assertType<Equal<typeof run, RunSummary>>();
    // @ts-expect-error a run summary has no `nonexistent` field
    void run.nonexistent;
  }
  for await (const event of client.runs.events("id")) {
    if (event.output?.successful) void event.output.data;
  }
  // @ts-expect-error connections.create needs credentials
  await client.connections.create({ integration: "scale_ai" });
  try {
    await client.runs.get("id");
  } catch (error) {
    if (NagentApiError.is(error, "NOT_FOUND")) {
      const code: "NOT_FOUND" = error.code;
      const requestId: string | undefined = error.requestId;
      void code, requestId;
    }
    // @ts-expect-error not a code of the catalogue
    NagentApiError.is(error, "NOT_A_CODE");
    if (error instanceof NotFoundError) void error.status;
  }
}

export async function webhooks(headers: Record<string, string>, body: string): Promise<void> {
  const event: WebhookEvent = await verifyWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, body);
  const type: string = event.type;
  void type;
  createWebhookHandler("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {});
  // @ts-expect-error the body is a string or bytes, not parsed JSON
  await verifyWebhook("whsec_x", headers, { type: "x" });
}

/** The README's example (README.md, "TypeScript SDK"), kept compiling. */
export async function readmeExample(): Promise<void> {
  const nagent = new Nagent({ baseUrl: "http://127.0.0.1:3000", apiKey: process.env.NAGENT_API_KEY });
  await nagent.connections.create({ integration: "scale_ai", credentials: { api_key: process.env.SCALE_API_KEY! } });
  const batch = await nagent.actions.execute("SCALE_AI_CREATE_BATCH", { name: "kittens_01", project: "kitten_labeling" });
  if (batch.successful) console.log(batch.data.status); // typed by the action's output schema
  else console.error(batch.error.code, batch.error.message); // e.g. UPSTREAM_CONFLICT
  for await (const run of nagent.runs.list({ status: "failed" })) {
    console.log(run.id, run.action, run.error_code); // pages are fetched as the loop goes
  }
}
