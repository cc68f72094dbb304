import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { baseEnv, startProcess } from "../../support/process";
import { freePort } from "../../support/net";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { testConfig } from "../../support/config";

const SERVER = join(process.cwd(), "apps/api/src/server.ts");

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});


describe("the API process", () => {
  it("refuses to start in production without its secrets, naming them", async () => {
    const p = startProcess(SERVER, baseEnv({ NODE_ENV: "production", DATABASE_URL: db.url }));
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain("NAGENT_ADMIN_TOKEN");
    expect(p.output()).toContain("NAGENT_MASTER_KEYS");
  });

  it("refuses a malformed variable, naming it", async () => {
    const p = startProcess(SERVER, baseEnv({ NODE_ENV: "production", PORT: "not-a-port", NAGENT_ADMIN_TOKEN: "x".repeat(40), NAGENT_MASTER_KEYS: `v1:${Buffer.alloc(32).toString("base64")}` }));
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/PORT: /);
  });

  it("serves, then shuts down gracefully on SIGTERM", async () => {
    const port = await freePort();
    const config = testConfig(db.url);
    // Production mode: no .env.local is read, so only the variables given here count.
    const p = startProcess(SERVER, baseEnv({
      NODE_ENV: "production", DATABASE_URL: db.url, REDIS_URL: config.redisUrl, PORT: String(port),
      NAGENT_ADMIN_TOKEN: config.adminToken, NAGENT_MASTER_KEYS: `v1:${config.masterKeys[0]!.key.toString("base64")}`, LOG_LEVEL: "info",
    }));
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status, { timeout: 60_000, interval: 200 }).toBe(200);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.output()).not.toContain(config.adminToken);
  }, 120_000); // a child process: its start alone takes 10–30 s on a loaded machine
});
