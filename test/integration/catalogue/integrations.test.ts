import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createTestAppWithWorkspace, type TestApp } from "../../support/app";

interface PageAction {
  slug: string;
  parameters: string[];
}
const PRODUCT_PAGE = JSON.parse(readFileSync(new URL("../../fixtures/scale-ai/product-page-actions.json", import.meta.url), "utf8")) as PageAction[];

let t: TestApp;
let key: { authorization: string };
beforeAll(async () => ({ t, key } = await createTestAppWithWorkspace()));
afterAll(() => t.close());

describe("GET /v1/integrations", () => {
  it("lists Scale AI with its auth fields (no secret) and action count", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/integrations", headers: key });
    expect(res.statusCode).toBe(200);
    const { integrations } = res.json();
    expect(integrations).toHaveLength(1);
    expect(integrations[0]).toEqual({
      slug: "scale_ai",
      name: "Scale AI",
      description: expect.stringContaining("Scale AI"),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      categories: expect.any(Array),
      auth: { type: "api_key", scheme: "basic", fields: [expect.objectContaining({ name: "api_key", secret: true, required: true })] },
      actions_count: 40,
    });
  });

  it("needs a workspace key", async () => {
    for (const url of ["/v1/integrations", "/v1/integrations/scale_ai"]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code).toBe("UNAUTHORIZED");
      const bad = await t.app.inject({ method: "GET", url, headers: bearer("nk_not_a_key") });
      expect(bad.statusCode, url).toBe(401);
    }
  });
});

describe("GET /v1/integrations/:slug", () => {
  it("done when: scale_ai lists 40 actions whose slugs equal the product page's, each input with one property per listed parameter", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/integrations/scale_ai", headers: key });
    expect(res.statusCode).toBe(200);
    const { integration } = res.json();
    expect(integration).toMatchObject({ slug: "scale_ai", name: "Scale AI", actions_count: 40 });
    expect(integration.actions).toHaveLength(40);
    expect(integration.actions.map((a: { slug: string }) => a.slug).sort()).toEqual(PRODUCT_PAGE.map((a) => a.slug).sort());
    for (const a of integration.actions) expect(Object.keys(a).sort()).toEqual(["description", "group", "integration", "name", "slug"]);

    for (const page of PRODUCT_PAGE) {
      const action = await t.app.inject({ method: "GET", url: `/v1/actions/${page.slug}`, headers: key });
      expect(action.statusCode, page.slug).toBe(200);
      expect(Object.keys(action.json().action.input_schema.properties ?? {}), page.slug).toHaveLength(page.parameters.length);
    }
  });

  it("answers 404 NOT_FOUND for an unknown integration, 400 for an unbounded slug", async () => {
    for (const slug of ["nope", "SCALE_AI", "scale_ai2"]) {
      const res = await t.app.inject({ method: "GET", url: `/v1/integrations/${slug}`, headers: key });
      expect(res.statusCode, slug).toBe(404);
      expect(res.json().error.code).toBe("NOT_FOUND");
    }
    const long = await t.app.inject({ method: "GET", url: `/v1/integrations/${"a".repeat(65)}`, headers: key });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.code).toBe("VALIDATION_FAILED");
  });
});
