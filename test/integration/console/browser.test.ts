import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { createTestStack, type TestStack } from "../../support/stack";
import { executeAsync, waitForEnd } from "../../support/execution";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";
import { seedRuns } from "../runs/seed";
import { recordConnectionTransition } from "@nagent/db";
import { startReceiver, waitFor, type Receiver } from "../../support/webhook-receiver";

/** Screenshots of every page land here (git-ignored). */
const OUTPUT_DIR = join(process.cwd(), "test-output", "console");
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];

/** axe-core's serious and critical findings on the page as it is now (injected through the debugger, so the CSP stays on). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ") }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}) at ${v.where}`);
}

describe("operator console in headless Chromium", () => {
  let s: TestStack;
  let browser: Browser;
  let page: Page;
  let base: string;
  let ws: ConnectedWorkspace;
  let retriedRun: string;
  let queuedRun: string;
  let foreignRun: string;
  let other: ConnectedWorkspace;
  let receiver: Receiver;
  let subscriptionId: string;
  let testEventId: string;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    // The seeded queued run has no job: the stuck-run sweeper must not re-enqueue it (and run it) before the cancel test.
    s = await createTestStack({ worker: { sweep: { queuedForMs: 3_600_000 } } });
    base = await s.app.listen({ host: "127.0.0.1", port: 0 });
    ws = await connectedWorkspace(s, "Console Co");
    other = await connectedWorkspace(s, "Other Co");
    // A real run whose first attempt fails (503) and second succeeds: two attempts on the timeline.
    ws.faults([{ route: "GET /v1/projects", error_rate: 1, error_status: 503, times: 1 }]);
    retriedRun = await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_PROJECTS", {});
    await waitForEnd(s, ws.apiKey, retriedRun);
    const now = Date.now();
    const ids = await seedRuns(s.db.pool, [
      ...Array.from({ length: 4 }, (_, i) => ({ workspaceId: ws.id, connectionId: ws.connectionId, status: "failed" as const, action: "SCALE_AI_CREATE_BATCH", createdAt: new Date(now - (i + 2) * 60_000) })),
      ...Array.from({ length: 6 }, (_, i) => ({ workspaceId: ws.id, connectionId: ws.connectionId, status: "succeeded" as const, createdAt: new Date(now - i * 90_000) })),
      { workspaceId: ws.id, connectionId: ws.connectionId, status: "queued" as const, action: "SCALE_AI_GET_BATCH", createdAt: new Date(now - 30_000) },
      { workspaceId: other.id, connectionId: other.connectionId, status: "failed" as const, action: "SCALE_AI_LIST_BATCHES", createdAt: new Date(now - 1_000) },
    ]);
    queuedRun = ids[10]!;
    foreignRun = ids[11]!;
    // A connection that went invalid, then active again: two status changes, newest first.
    // Six times invalid, then active again: twelve status changes, more than the page's first ten.
    for (let i = 1; i <= 6; i++) {
      expect(await recordConnectionTransition(s.db.pool, { workspaceId: ws.id, connectionId: ws.connectionId, to: "invalid", reason: `seeded #${i}: the upstream refused the key (401)` })).not.toBeNull();
      expect(await recordConnectionTransition(s.db.pool, { workspaceId: ws.id, connectionId: ws.connectionId, to: "active", reason: `seeded #${i}: a connection test succeeded` })).not.toBeNull();
    }
    // A subscription to a receiver on loopback, and a test event delivered to it.
    receiver = await startReceiver();
    receiver.answerWith(() => ({ status: 200, body: "thanks from the receiver" }));
    const sub = await s.app.inject({ method: "POST", url: "/v1/trigger-subscriptions", headers: { authorization: `Bearer ${ws.apiKey}` },
      payload: { trigger: "SCALE_AI_TASK_COMPLETED", target: { url: receiver.url } } });
    expect(sub.statusCode).toBe(201);
    subscriptionId = sub.json().subscription.id;
    const sent = await s.app.inject({ method: "POST", url: `/v1/trigger-subscriptions/${subscriptionId}/test`, headers: { authorization: `Bearer ${ws.apiKey}` } });
    expect(sent.statusCode).toBe(202);
    testEventId = sent.json().event_id;
    expect(await waitFor(() => receiver.delivered().length === 1, 20_000)).toBe(true);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (m) => { if (m.type() === "error" && !/status of 40[13]/.test(m.text())) errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(e.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await s?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), fullPage: true });

  it("signs in with a workspace API key into an HttpOnly, SameSite=Strict cookie the page cannot read", async () => {
    await page.goto(`${base}/console`);
    await page.getByLabel("Workspace API key").fill("nk_not_a_real_key_at_all_000000000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not a valid");
    expect(await seriousViolations(page)).toEqual([]);
    await shot("sign-in");

    await page.getByLabel("Workspace API key").fill(ws.apiKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    const [cookie] = (await page.context().cookies()).filter((c) => c.name === "nagent_console");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookie!.expires * 1000).toBeLessThan(Date.now() + 8.1 * 3600_000);
    expect(await page.evaluate("document.cookie")).toBe("");
    const stored = await page.evaluate("JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })");
    expect(stored).not.toContain(ws.apiKey);
  });

  it("shows the workspace's runs with charts, never another workspace's, and filters the failed ones", async () => {
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(12);
    expect(await page.locator(`a[href="#/runs/${foreignRun}"]`).count()).toBe(0);
    expect(await page.content()).not.toContain("SCALE_AI_LIST_BATCHES");
    await expect.poll(() => page.locator("figure").first().textContent()).toContain("12 runs");
    expect(await seriousViolations(page)).toEqual([]);
    await shot("runs");

    await page.getByLabel("Status", { exact: true }).selectOption("failed");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => rows.count()).toBe(4);
    expect(await rows.locator(".badge").allTextContents()).toEqual(["failed", "failed", "failed", "failed"]);
    expect(page.url()).toContain("status=failed");
    await shot("runs-failed");
  });

  it("opens a run and shows its attempts on a timeline", async () => {
    await page.goto(`${base}/console#/runs/${retriedRun}`);
    await page.getByRole("heading", { name: "Attempts" }).waitFor();
    const attempts = page.locator("li.attempt");
    await expect.poll(() => attempts.count()).toBe(2);
    expect(await attempts.nth(0).textContent()).toContain("retry");
    expect(await attempts.nth(1).textContent()).toContain("succeeded");
    expect(await page.getByLabel("Envelope").textContent()).toContain('"successful": true');
    expect(await seriousViolations(page)).toEqual([]);
    await shot("run");
  });

  it("cancels a queued run", async () => {
    await page.goto(`${base}/console#/runs/${queuedRun}`);
    await page.getByText("Why it waits").waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.getByText("Run canceled.").waitFor();
    expect(await page.locator(".facts .badge").textContent()).toBe("canceled");
    const row = await s.db.pool.query("SELECT status FROM run WHERE id = $1", [queuedRun]);
    expect(row.rows[0].status).toBe("canceled");
  });

  it("tests a connection", async () => {
    await page.goto(`${base}/console#/connections`);
    await page.getByRole("button", { name: /^Test: / }).click();
    await page.getByText("the upstream accepted the credentials").waitFor();
    expect(await page.locator("tbody").textContent()).toContain("active");
    expect(await seriousViolations(page)).toEqual([]);
    await shot("connections");
  });

  it("shows a connection's status changes, newest first, ten at a time", async () => {
    const history = page.locator(".history .events li");
    await expect.poll(() => history.count()).toBe(10);
    const texts = await history.allTextContents();
    expect(texts[0]).toContain("invalid → active");
    expect(texts[0]).toContain("seeded #6: a connection test succeeded");
    expect(texts[1]).toContain("active → invalid");
    expect(texts[1]).toContain("seeded #6: the upstream refused the key (401)");
    expect(texts[9]).toContain("seeded #2: the upstream refused the key");
    expect(await seriousViolations(page)).toEqual([]);
    await shot("connection-events");
    await page.getByRole("button", { name: /^More status changes of / }).click();
    await expect.poll(() => history.count()).toBe(12);
    expect(await history.nth(11).textContent()).toContain("seeded #1: the upstream refused the key");
    expect(await page.getByRole("button", { name: /^More status changes of / }).count()).toBe(0);
  });

  it("lists the trigger subscriptions and the event log, filtered by trigger and status", async () => {
    await page.getByRole("link", { name: "Triggers" }).click();
    await page.getByRole("heading", { name: "Subscriptions" }).waitFor();
    const sub = page.locator("section[aria-labelledby=subscriptions-title] tbody tr");
    await expect.poll(() => sub.count()).toBe(1);
    const subText = await sub.textContent();
    expect(subText).toContain("SCALE_AI_TASK_COMPLETED");
    expect(subText).toContain(receiver.url);
    expect(subText).toMatch(/whsec_…/);
    expect(await sub.locator(".badge").textContent()).toBe("active");
    const events = page.locator("table.eventlog tbody tr");
    await expect.poll(() => events.count()).toBe(1);
    expect(await events.textContent()).toContain("test");
    await expect.poll(() => events.locator(".badge").allTextContents()).toEqual(["succeeded"]);
    expect(await seriousViolations(page)).toEqual([]);
    await shot("triggers");

    await page.getByLabel("Delivery status").selectOption("failed");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => events.textContent()).toContain("No events match.");
    expect(page.url()).toContain("status=failed");
    await page.getByLabel("Delivery status").selectOption("succeeded");
    await expect.poll(() => page.getByLabel("Trigger", { exact: true }).locator("option").count()).toBeGreaterThan(1);
    await page.getByLabel("Trigger", { exact: true }).selectOption("SCALE_AI_TASK_COMPLETED");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.locator(`a[href="#/events/${testEventId}"]`).count()).toBe(1);
    expect(page.url()).toContain("trigger=SCALE_AI_TASK_COMPLETED");
  });

  it("pauses and resumes a subscription", async () => {
    const sub = page.locator("section[aria-labelledby=subscriptions-title] tbody tr");
    await page.getByRole("button", { name: /^Pause: SCALE_AI_TASK_COMPLETED/ }).click();
    await page.getByText("deliveries paused").waitFor();
    await expect.poll(() => sub.locator(".badge").textContent()).toBe("paused");
    const paused = await s.app.inject({ method: "GET", url: `/v1/trigger-subscriptions/${subscriptionId}`, headers: { authorization: `Bearer ${ws.apiKey}` } });
    expect(paused.json().subscription.status).toBe("paused");
    await page.getByRole("button", { name: /^Resume: SCALE_AI_TASK_COMPLETED/ }).click();
    await page.getByText("deliveries resumed").waitFor();
    await expect.poll(() => sub.locator(".badge").textContent()).toBe("active");
    const resumed = await s.app.inject({ method: "GET", url: `/v1/trigger-subscriptions/${subscriptionId}`, headers: { authorization: `Bearer ${ws.apiKey}` } });
    expect(resumed.json().subscription.status).toBe("active");

    await page.getByRole("link", { name: /^Its events: SCALE_AI_TASK_COMPLETED/ }).click();
    await expect.poll(() => page.url()).toContain(`subscription_id=${subscriptionId}`);
    await expect.poll(() => page.locator(`a[href="#/events/${testEventId}"]`).count()).toBe(1);
  });

  it("sends a test event from the subscription row", async () => {
    await page.getByRole("button", { name: /^Send test event: SCALE_AI_TASK_COMPLETED/ }).click();
    await page.getByText("Test event sent").waitFor();
    expect(await waitFor(() => receiver.delivered().length === 2, 20_000)).toBe(true);
  });

  it("opens an event: its data, its delivery with the attempt, and redelivers it", async () => {
    await page.goto(`${base}/console#/events/${testEventId}`);
    await page.getByRole("heading", { name: "Data" }).waitFor();
    expect(await page.getByLabel("Event data").textContent()).toContain('"task_id"');
    const attempts = page.locator(".delivery li.attempt");
    await expect.poll(() => attempts.count()).toBe(1);
    const first = await attempts.first().textContent();
    expect(first).toContain("Attempt 1");
    expect(first).toContain("HTTP 200");
    expect(first).toContain("thanks from the receiver");
    expect(await page.locator(".delivery .facts .badge").textContent()).toBe("succeeded");
    expect(await seriousViolations(page)).toEqual([]);
    await shot("event");

    const before = receiver.delivered().length;
    await page.getByRole("button", { name: "Redeliver", exact: true }).click();
    await page.getByText("Redelivery queued (1 delivery)").waitFor();
    expect(await waitFor(() => receiver.delivered().length === before + 1, 20_000)).toBe(true);
    expect(receiver.delivered().at(-1)!.headers["webhook-id"]).toBe(receiver.delivered()[0]!.headers["webhook-id"]);
    await expect.poll(() => attempts.count(), { timeout: 20_000 }).toBe(2);
    expect(errors).toEqual([]);
  });

  it("finds an action by search and shows its schemas and versions", async () => {
    await page.goto(`${base}/console#/actions`);
    await page.getByRole("searchbox", { name: "Search actions" }).fill("create batch");
    await page.getByRole("button", { name: "Search" }).click();
    const link = page.getByRole("link", { name: /SCALE_AI_CREATE_BATCH/ });
    await link.click();
    await page.getByRole("heading", { name: "Schema versions" }).waitFor();
    expect(await page.locator(".detail .schema label").count()).toBeGreaterThan(0);
    expect(await seriousViolations(page)).toEqual([]);
    await shot("actions");
  });

  it("refuses a forged cross-site POST made with the session cookie", async () => {
    const cookie = (await page.context().cookies()).find((c) => c.name === "nagent_console")!;
    const forged = await fetch(`${base}/v1/runs/${queuedRun}/cancel`, { method: "POST", headers: { cookie: `nagent_console=${cookie.value}`, origin: "https://evil.example" } });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("CSRF_REJECTED");
    // Without the Origin header too: no CSRF token, no change.
    const tokenless = await fetch(`${base}/v1/runs/${queuedRun}/cancel`, { method: "POST", headers: { cookie: `nagent_console=${cookie.value}` } });
    expect(tokenless.status).toBe(403);
    expect(errors).toEqual([]);
  });

  it("signs out", async () => {
    await page.goto(`${base}/console#/runs`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Workspace API key").waitFor();
    expect((await page.context().cookies()).some((c) => c.name === "nagent_console")).toBe(false);
    const after = await page.evaluate(async () => (await fetch("/v1/runs")).status);
    expect(after).toBe(401);
  });

  it("signs in with the admin token into a one-hour cookie and lists the workspaces to pick from", async () => {
    await page.goto(`${base}/console`);
    await page.getByLabel("Workspace API key or admin token").fill(s.config.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Pick a workspace" }).waitFor();
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.locator("th").allTextContents()).toEqual(["Console Co", "Other Co"]);
    expect(await page.locator("#nav").isHidden()).toBe(true);
    expect(await page.locator("#who").textContent()).toBe("Admin · no workspace picked");
    const [cookie] = (await page.context().cookies()).filter((c) => c.name === "nagent_console");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookie!.expires * 1000).toBeLessThan(Date.now() + 1.1 * 3600_000);
    expect(cookie!.value).not.toContain(s.config.adminToken);
    expect(await page.evaluate("document.cookie")).toBe("");
    const stored = await page.evaluate("JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })");
    expect(stored).not.toContain(s.config.adminToken);
    expect(await page.getByLabel("Workspace API key or admin token").count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await shot("workspaces");
  });

  it("acts in the picked workspace, then switches to another and sees only its runs", async () => {
    await page.getByRole("button", { name: "Open workspace Console Co" }).click();
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    expect(await page.locator("#who").textContent()).toBe("Admin · Workspace Console Co");
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(12);
    expect(await page.locator(`a[href="#/runs/${foreignRun}"]`).count()).toBe(0);
    expect(await page.content()).not.toContain("SCALE_AI_LIST_BATCHES");

    await page.getByRole("link", { name: "Switch workspace" }).click();
    await page.getByRole("heading", { name: "Pick a workspace" }).waitFor();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    expect(await page.getByRole("button", { name: "Current" }).isDisabled()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await shot("workspaces-switch");
    await page.getByRole("button", { name: "Open workspace Other Co" }).click();
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    expect(await page.locator("#who").textContent()).toBe("Admin · Workspace Other Co");
    await expect.poll(() => page.locator(`a[href="#/runs/${foreignRun}"]`).count()).toBe(1);
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.content()).not.toContain("SCALE_AI_CREATE_BATCH");
    await expect.poll(() => page.locator("figure").first().textContent()).toMatch(/(^|\D)1 runs? in the last/);
    expect(await seriousViolations(page)).toEqual([]);
    await shot("runs-admin-other");

    // The first workspace's runs are out of reach by URL too, and the cookie cannot be taken to another workspace.
    const cookie = (await page.context().cookies()).find((c) => c.name === "nagent_console")!;
    expect((await fetch(`${base}/v1/runs/${retriedRun}`, { headers: { cookie: `nagent_console=${cookie.value}` } })).status).toBe(404);
    expect((await fetch(`${base}/v1/runs/${foreignRun}`, { headers: { cookie: `nagent_console=${cookie.value}` } })).status).toBe(200);
    const forged = await fetch(`${base}/console/session/workspace`, {
      method: "POST", body: JSON.stringify({ workspace_id: ws.id }),
      headers: { cookie: `nagent_console=${cookie.value}`, "content-type": "application/json", origin: "https://evil.example" },
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("CSRF_REJECTED");
    expect(other.id).not.toBe(ws.id);
    expect(errors).toEqual([]);
  });

  it("signs out of the admin session", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Workspace API key or admin token").waitFor();
    expect((await page.context().cookies()).some((c) => c.name === "nagent_console")).toBe(false);
    expect(await page.evaluate(async () => (await fetch("/console/workspaces")).status)).toBe(401);
  });
});
