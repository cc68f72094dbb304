import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { IMAGE_TASK, client, eventually, sandboxForFile } from "./helpers";

const sb = sandboxForFile({ keys: ["test_ctl_a", "test_ctl_b"] });
const control = sb.client(null);

describe("control API: keys", () => {
  it("adds a key (its own new world), lists keys masked, removes it (then 401)", async () => {
    const added = await control.post("/sandbox/keys", { key: "live_added_key_0001" });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ key: "live_…0001", created: true });
    expect((await control.post("/sandbox/keys", { key: "live_added_key_0001" })).body.created).toBe(false);
    const c = sb.client("live_added_key_0001");
    expect((await c.get("/v1/tasks")).status).toBe(200);
    expect((await control.get("/sandbox/keys")).body.keys).toContainEqual({ key: "live_…0001", mode: "live" });
    expect((await control.del("/sandbox/keys/live_added_key_0001")).status).toBe(204);
    expect((await c.get("/v1/tasks")).status).toBe(401);
    expect((await control.del("/sandbox/keys/live_added_key_0001")).status).toBe(404);
  });

  it("refuses keys that do not look like live_… or test_…", async () => {
    for (const key of ["abc", "prod_123", "test_", "test_has space"]) expect((await control.post("/sandbox/keys", { key })).status).toBe(400);
    expect((await control.post("/sandbox/keys", {})).status).toBe(400);
  });
});

describe("control API: reset and settings", () => {
  it("resets one key's world, or all, keeping the keys", async () => {
    const a = sb.client("test_ctl_a");
    const b = sb.client("test_ctl_b");
    await a.post("/v1/task/imageannotation", IMAGE_TASK);
    await b.post("/v1/task/imageannotation", IMAGE_TASK);
    expect((await control.post("/sandbox/reset", { key: "test_ctl_a" })).status).toBe(204);
    expect((await a.get("/v1/tasks")).body.total).toBe(0);
    expect((await b.get("/v1/tasks")).body.total).toBe(1);
    expect((await control.post("/sandbox/reset")).status).toBe(204);
    expect((await b.get("/v1/tasks")).body.total).toBe(0);
    expect((await control.post("/sandbox/reset", { key: "test_nobody" })).status).toBe(404);
  });

  it("sets the live completion delay at run time", async () => {
    await control.post("/sandbox/keys", { key: "live_ctl_delay" });
    expect((await control.put("/sandbox/settings", { live_completion_delay_ms: 10 })).body.live_completion_delay_ms).toBe(10);
    const live = sb.client("live_ctl_delay");
    const id = (await live.post("/v1/task/imageannotation", IMAGE_TASK)).body.task_id;
    await eventually(async () => expect((await live.get(`/v1/task/${id}`)).body.status).toBe("completed"));
    expect((await control.put("/sandbox/settings", { live_completion_delay_ms: null })).body.live_completion_delay_ms).toBeNull();
    expect((await control.put("/sandbox/settings", { live_completion_delay_ms: -1 })).status).toBe(400);
    expect((await control.put("/sandbox/settings", { other: 1 })).status).toBe(400);
  });

  it("offers the same control in-process", async () => {
    expect(sb.control.addKey("test_inproc")).toBe(true);
    const c = sb.client("test_inproc");
    const id = (await c.post("/v1/task/imageannotation", IMAGE_TASK)).body.task_id;
    expect(sb.control.errorTask(id, "broken")["status"]).toBe("error");
    sb.control.setFaults("test_inproc", [{ error_rate: 1 }]);
    expect((await c.get("/v1/tasks")).status).toBe(500);
    sb.control.clearFaults("test_inproc");
    expect(sb.control.removeKey("test_inproc")).toBe(true);
  });
});

describe("npm run sandbox (the process)", () => {
  it("starts with SANDBOX_KEYS, serves /v1 at the printed URL, and stops on SIGTERM", async () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", main], {
      env: { ...process.env, SANDBOX_KEYS: "test_proc_key_0001,live_proc_key_0002", SANDBOX_PORT: "0", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        });
        child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
      });
      expect(output).toContain("test_…0001");
      expect(output).not.toContain("test_proc_key_0001");
      const c = client(url, "test_proc_key_0001");
      expect((await c.post("/v1/batches", { name: "b1", project: "p1" })).status).toBe(404);
      expect((await c.post("/v1/projects", { name: "p1", type: "imageannotation" })).status).toBe(200);
      expect((await c.post("/v1/batches", { name: "b1", project: "p1" })).status).toBe(200);
      expect((await c.post("/v1/batches", { name: "b1", project: "p1" })).status).toBe(409);
      expect((await c.get("/v1/tasks")).body).toMatchObject({ docs: [], total: 0, has_more: false, next_token: null });
      expect((await client(url, null).get("/v1/tasks")).body).toEqual({ status_code: 401, error: "No valid API key provided." });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("seeds and prints a test key when none is configured", async () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", main], {
      env: { ...process.env, SANDBOX_KEYS: "", SANDBOX_PORT: "0", LOG_LEVEL: "warn" },
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let output = "";
      const [url, key] = await new Promise<[string, string]>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          const u = /listening on (http:\/\/\S+)/.exec(output);
          const k = /seeded test key: (test_[0-9a-f]{32})/.exec(output);
          if (u?.[1] && k?.[1]) resolve([u[1], k[1]]);
        });
        child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
      });
      expect((await client(url, key).get("/v1/tasks")).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
