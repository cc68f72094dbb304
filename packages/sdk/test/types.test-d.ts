/**
 * Compile-time tests of the SDK's typing, checked by `tsc -p .` (the first step of `npm test`); never run. Each
 * `@ts-expect-error` marks a misuse that must not compile: if the typing regresses (a slug, field or type accepted
 * that should not be), the directive is unused and tsc fails the build.
 */
import {
  Nagent, NagentApiError, NotFoundError, createWebhookHandler, verifyWebhook,
  type ActionInput, type ActionOutput, type ActionSlug, type EventSummary, type ExecuteResult, type RunSummary, type TriggerPayload,
  type WebhookEvent,
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

  // Each handler gets its trigger's payload, typed by the generated trigger map.
  createWebhookHandler("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {
    SCALE_AI_TASK_COMPLETED: (data, completed) => {
      const taskId: string = data.task.task_id;
      const status: "completed" | undefined = data.task.status;
      assertType<Equal<typeof completed.type, "SCALE_AI_TASK_COMPLETED">>();
      // @ts-expect-error a wrong field: the payload admits extra fields, so `taskid` is unknown, never the task's id
      const wrong: string = data.task.taskid;
      // @ts-expect-error task_id is a string
      const count: number = data.task.task_id;
      void taskId, status, wrong, count;
    },
    NAGENT_CONNECTION_STATUS_CHANGED: (data) => {
      const to: "active" | "degraded" | "invalid" = data.to;
      void to;
    },
    // @ts-expect-error not a trigger slug
    SCALE_AI_TASK_COMPLETE: () => {},
  });
  // A switch on the verified event's type narrows `data`.
  if (event.type === "SCALE_AI_BATCH_COMPLETED") assertType<Equal<typeof event.data, TriggerPayload<"SCALE_AI_BATCH_COMPLETED">>>();
}

export async function triggers(): Promise<void> {
  const trigger = await client.triggers.get("SCALE_AI_TASK_COMPLETED");
  const example: string | undefined = trigger.examples[0]?.task.task_id;
  void example;
  // @ts-expect-error unknown trigger slug
  await client.triggers.get("SCALE_AI_TASK_DONE");
  for await (const summary of client.triggers.list({ integration: "scale_ai" })) void summary.slug;

  const { subscription, secret } = await client.subscriptions.create({ trigger: "SCALE_AI_TASK_COMPLETED", target: { url: "https://example.com/hooks" } });
  const hint: string = subscription.secret_hint;
  void secret, hint;
  // @ts-expect-error unknown trigger slug
  await client.subscriptions.create({ trigger: "SCALE_AI_TASK_DONE", target: { url: "https://example.com/hooks" } });
  // @ts-expect-error a target is required
  await client.subscriptions.create({ trigger: "SCALE_AI_TASK_COMPLETED" });
  // @ts-expect-error a subscription's status is active, paused or disabled
  await client.subscriptions.list({ status: "stopped" });
  const rotated = await client.subscriptions.rotateSecret(subscription.id, { grace_period_seconds: 0 });
  void rotated.secret;
  const test = await client.subscriptions.test(subscription.id);
  void test.delivery_id;

  for await (const event of client.events.list({ status: "failed" })) assertType<Equal<typeof event, EventSummary>>();
  // @ts-expect-error a delivery's status is pending, succeeded or failed
  client.events.list({ status: "lost" });
  const detail = await client.events.get("id");
  void detail.deliveries[0]?.attempts[0]?.response_status;
  const { deliveries } = await client.events.redeliver("id");
  void deliveries;

  for await (const change of client.connections.events("id")) void change.reason;

  const settings = await client.workspace.settings.update({ output_check: "strict" });
  const check: "record" | "strict" = settings.output_check;
  void check;
  // @ts-expect-error output_check is record or strict
  await client.workspace.settings.update({ output_check: "lenient" });
}

export async function reconcile(): Promise<void> {
  const run = await client.runs.reconcile("id", { status: "succeeded", data: { task_id: "t" } });
  const status: "queued" | "running" | "succeeded" | "failed" | "canceled" | "unknown" = run.status;
  void status;
  await client.runs.reconcile("id", { status: "failed" });
  await client.runs.reconcile("id", { status: "failed", error: { code: "UPSTREAM_CONFLICT", message: "It was there already." } });
  // @ts-expect-error a failed outcome's error needs a message
  await client.runs.reconcile("id", { status: "failed", error: { code: "X" } });
  // @ts-expect-error an outcome is succeeded or failed
  await client.runs.reconcile("id", { status: "canceled" });
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
