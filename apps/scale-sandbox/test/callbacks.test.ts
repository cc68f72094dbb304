import { describe, expect, it } from "vitest";
import { DEFAULT_CALLBACK_AUTH_KEY, DEFAULT_CALLBACK_RETRY_DELAYS_MS } from "../src/index";
import { IMAGE_TASK, callbackReceiver, client, eventually, sandbox, sandboxForFile } from "./helpers";

const sb = sandboxForFile({ keys: ["test_cb", "live_cb"], callbackAuthKey: "cb-secret-1" });
const test = sb.client("test_cb");
const live = sb.client("live_cb");
const control = sb.client(null);

describe("task lifecycle", () => {
  it("leaves live tasks pending until completed through the control API, with a plausible or a given response", async () => {
    const id = (await live.post("/v1/task/imageannotation", IMAGE_TASK)).body.task_id;
    const pending = (await live.get(`/v1/task/${id}`)).body;
    expect(pending.status).toBe("pending");
    expect(pending).not.toHaveProperty("response");
    expect(pending).not.toHaveProperty("completed_at");
    const done = await control.post(`/sandbox/tasks/${id}/complete`);
    expect(done.status).toBe(200);
    expect(done.body.status).toBe("completed");
    expect(done.body.response.annotations[0]).toMatchObject({ type: "box", label: "cat" });
    expect((await live.get(`/v1/task/${id}`)).body.completed_at).toBeTypeOf("string");
    // Only pending tasks complete; unknown tasks are 404.
    expect((await control.post(`/sandbox/tasks/${id}/complete`)).status).toBe(409);
    expect((await control.post("/sandbox/tasks/000000000000000000000000/complete")).status).toBe(404);

    const other = (await live.post("/v1/task/imageannotation", IMAGE_TASK)).body.task_id;
    const custom = await control.post(`/sandbox/tasks/${other}/complete`, { response: { annotations: [] } });
    expect(custom.body.response).toEqual({ annotations: [] });
  });

  it("moves a task to error with an attachment error response and clears unique_id when asked", async () => {
    const id = (await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "err-uid", clear_unique_id_on_error: true })).body.task_id;
    const failed = (await control.post(`/sandbox/tasks/${id}/error`, {})).body;
    expect(failed.status).toBe("error");
    expect(failed.response).toEqual({ error: "One or more attachments could not be downloaded.", attachments: [{ statusCode: 403, url: IMAGE_TASK.attachment }] });
    expect(failed).not.toHaveProperty("unique_id");
    expect((await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "err-uid" })).status).toBe(200);
    expect((await control.post(`/sandbox/tasks/${id}/error`, {})).status).toBe(409);
  });

  it("completes live tasks by themselves after the configured delay", async () => {
    const delayed = await sandbox({ keys: ["live_delay"], liveCompletionDelayMs: 20 });
    try {
      const c = client(delayed.url, "live_delay");
      const id = (await c.post("/v1/task/imageannotation", IMAGE_TASK)).body.task_id;
      await eventually(async () => expect((await c.get(`/v1/task/${id}`)).body.status).toBe("completed"));
    } finally {
      await delayed.close();
    }
  });
});

describe("callbacks", () => {
  it("POSTs {task, response, task_id} with the scale-callback-auth header on completion, and records callback_succeeded", async () => {
    const receiver = await callbackReceiver();
    try {
      const task = (await test.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: receiver.url })).body;
      await receiver.waitFor(1);
      const call = receiver.received[0];
      expect(call?.headers["scale-callback-auth"]).toBe("cb-secret-1");
      expect(call?.headers["content-type"]).toBe("application/json");
      expect(call?.body.task_id).toBe(task.task_id);
      expect(call?.body.task).toMatchObject({ task_id: task.task_id, status: "completed" });
      expect(call?.body.response).toEqual(task.response);
      await eventually(async () => expect((await test.get(`/v1/task/${task.task_id}`)).body.callback_succeeded).toBe(true));
    } finally {
      await receiver.close();
    }
  });

  it("retries failed deliveries with backoff until the receiver answers 2xx", async () => {
    const receiver = await callbackReceiver([500, 503]);
    try {
      const id = (await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: receiver.url })).body.task_id;
      await control.post(`/sandbox/tasks/${id}/complete`);
      await receiver.waitFor(3);
      expect(receiver.received.map((r) => r.body.task_id)).toEqual([id, id, id]);
      await eventually(async () => {
        const deliveries = (await control.get(`/sandbox/callbacks?task_id=${id}`)).body.deliveries;
        expect(deliveries.map((d: { attempt: number; status: number; succeeded: boolean }) => [d.attempt, d.status, d.succeeded])).toEqual([
          [1, 500, false],
          [2, 503, false],
          [3, 200, true],
        ]);
      });
      expect((await live.get(`/v1/task/${id}`)).body.callback_succeeded).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it("gives up after the retry schedule and records callback_succeeded false", async () => {
    const receiver = await callbackReceiver([500, 500, 500, 500, 500, 500, 500]);
    try {
      const id = (await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: receiver.url })).body.task_id;
      await control.post(`/sandbox/tasks/${id}/complete`);
      // One first attempt plus one retry per entry of the schedule ([10, 20, 40, 80] in these tests).
      await receiver.waitFor(5);
      await eventually(async () => expect((await control.get(`/sandbox/callbacks?task_id=${id}`)).body.deliveries).toHaveLength(5));
      expect((await live.get(`/v1/task/${id}`)).body.callback_succeeded).toBe(false);
    } finally {
      await receiver.close();
    }
  });

  it("records an unreachable receiver as a failed delivery", async () => {
    const receiver = await callbackReceiver();
    await receiver.close();
    const id = (await test.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: receiver.url })).body.task_id;
    await eventually(async () => {
      const first = (await control.get(`/sandbox/callbacks?task_id=${id}`)).body.deliveries[0];
      expect(first).toMatchObject({ attempt: 1, status: null, succeeded: false });
    });
  });

  it("calls back on error and on audits, and again through send_callback", async () => {
    const receiver = await callbackReceiver();
    try {
      const failing = (await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: receiver.url })).body.task_id;
      await control.post(`/sandbox/tasks/${failing}/error`, { message: "Bad image" });
      await receiver.waitFor(1);
      expect(receiver.received[0]?.body.task.status).toBe("error");
      expect(receiver.received[0]?.body.response.error).toBe("Bad image");

      const audited = (await test.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: receiver.url })).body.task_id;
      await receiver.waitFor(2);
      await test.post(`/v1/task/${audited}/audit`, { accepted: false });
      await receiver.waitFor(3);
      expect(receiver.received[2]?.body.task.customer_review_status).toBe("rejected");

      const resent = await test.post(`/v1/task/${audited}/send_callback`);
      expect(resent.status).toBe(200);
      expect(resent.body).toEqual({ success: true });
      await receiver.waitFor(4);
      expect(receiver.received[3]?.body.task_id).toBe(audited);
    } finally {
      await receiver.close();
    }
  });

  it("send_callback answers 400 for a pending task or one without callback_url, 404 for an unknown task", async () => {
    const pending = (await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: "http://127.0.0.1:9/cb" })).body.task_id;
    expect((await live.post(`/v1/task/${pending}/send_callback`)).status).toBe(400);
    const bare = (await test.post("/v1/task/imageannotation", IMAGE_TASK)).body.task_id;
    expect((await test.post(`/v1/task/${bare}/send_callback`)).status).toBe(400);
    expect((await test.post("/v1/task/000000000000000000000000/send_callback")).status).toBe(404);
  });

  it("counts an email callback target as delivered", async () => {
    const task = (await test.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: "ops@example.com" })).body;
    expect(task.callback_succeeded).toBe(true);
  });

  it("uses the callback auth key set through the control API, and a fixed dev default", async () => {
    const receiver = await callbackReceiver();
    try {
      expect((await control.put("/sandbox/settings", { callback_auth_key: "rotated" })).body.callback_auth_key).toBe("rotated");
      await test.post("/v1/task/imageannotation", { ...IMAGE_TASK, callback_url: receiver.url });
      await receiver.waitFor(1);
      expect(receiver.received[0]?.headers["scale-callback-auth"]).toBe("rotated");
    } finally {
      await control.put("/sandbox/settings", { callback_auth_key: "cb-secret-1" });
      await receiver.close();
    }
    const plain = await sandbox({ keys: ["test_default"] });
    try {
      expect(plain.control.settings().callback_auth_key).toBe(DEFAULT_CALLBACK_AUTH_KEY);
    } finally {
      await plain.close();
    }
  });

  it("retries up to 20 times by default, with growing delays", () => {
    expect(DEFAULT_CALLBACK_RETRY_DELAYS_MS).toHaveLength(20);
    for (let i = 1; i < DEFAULT_CALLBACK_RETRY_DELAYS_MS.length; i++) {
      expect(DEFAULT_CALLBACK_RETRY_DELAYS_MS[i]).toBeGreaterThanOrEqual(DEFAULT_CALLBACK_RETRY_DELAYS_MS[i - 1] as number);
    }
    const total = DEFAULT_CALLBACK_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(24 * 3_600_000);
  });
});
