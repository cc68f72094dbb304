import { describe, expect, it } from "vitest";
import { buildRequest } from "./build-request";

const base = "https://api.example.com";

describe("buildRequest", () => {
  it("URL-encodes path variables (a bc/def → a%20bc%2Fdef)", () => {
    const req = buildRequest({ http: { method: "POST", path: "/v1/batches/{batch_name}/finalize" }, params: { batch_name: { in: "path" } } }, { batch_name: "a bc/def" }, base);
    expect(req.url).toBe("https://api.example.com/v1/batches/a%20bc%2Fdef/finalize");
    expect(req.body).toBeUndefined();
  });

  it("repeats query arrays, comma-joins on request, writes booleans as true/false, omits absent values", () => {
    const req = buildRequest({
      http: { method: "GET", path: "/v1/tasks" },
      params: { tags: { in: "query" }, customer_review_status: { in: "query", style: "comma" }, include_attachment_url: { in: "query" }, limit: { in: "query" }, project: { in: "query" } },
    }, { tags: ["a", "b c"], customer_review_status: ["accepted", "fixed"], include_attachment_url: true, limit: 10 }, base);
    const url = new URL(req.url);
    expect(url.searchParams.getAll("tags")).toEqual(["a", "b c"]);
    expect(url.searchParams.get("customer_review_status")).toBe("accepted,fixed");
    expect(url.searchParams.get("include_attachment_url")).toBe("true");
    expect(url.searchParams.get("limit")).toBe("10");
    expect(url.searchParams.has("project")).toBe(false);
  });

  it("builds a JSON body with wire renames", () => {
    const req = buildRequest({
      http: { method: "POST", path: "/v1/projects/{project_name}/setOntology" },
      params: { project_name: { in: "path" }, ontology: { in: "body" }, ontology_name: { in: "body", wire: "name" } },
    }, { project_name: "p", ontology: ["cat"], ontology_name: "v2" }, base);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body as string)).toEqual({ ontology: ["cat"], name: "v2" });
  });

  it("sends a raw array or object as the whole body", () => {
    const tags = buildRequest({ http: { method: "PUT", path: "/v1/task/{task_id}/tags" }, params: { task_id: { in: "path" }, tags: { in: "body_raw" } } }, { task_id: "t1", tags: ["x", "y"] }, base);
    expect(tags.body).toBe('["x","y"]');
    const meta = buildRequest({ http: { method: "POST", path: "/v1/task/{task_id}/setMetadata" }, params: { task_id: { in: "path" }, metadata: { in: "body_raw" } } }, { task_id: "t1", metadata: { k: 1 } }, base);
    expect(meta.body).toBe('{"k":1}');
  });

  it("spreads an object's keys at the top level of the body", () => {
    const req = buildRequest({
      http: { method: "POST", path: "/v1/projects/{name}/setParams" },
      params: { name: { in: "path" }, patch: { in: "body" }, params: { in: "body_spread" }, instruction: { in: "body" } },
    }, { name: "p", patch: true, params: { geometries: { box: {} } }, instruction: "Do it" }, base);
    expect(JSON.parse(req.body as string)).toEqual({ patch: true, geometries: { box: {} }, instruction: "Do it" });
  });

  it("builds a multipart form with fields and the file part", async () => {
    const req = buildRequest({
      http: { method: "POST", path: "/v1/files/upload" },
      params: { file: { in: "file" }, metadata: { in: "form" }, display_name: { in: "form" } },
    }, { file: { filename: "cat.png", content_base64: Buffer.from("PNGDATA").toString("base64"), content_type: "image/png" }, metadata: { a: 1 }, display_name: "Cat" }, base);
    const form = req.body as FormData;
    expect(form.get("metadata")).toBe('{"a":1}');
    expect(form.get("display_name")).toBe("Cat");
    const file = form.get("file") as File;
    expect(file.name).toBe("cat.png");
    expect(Buffer.from(await file.arrayBuffer()).toString()).toBe("PNGDATA");
    expect(req.headers["content-type"]).toBeUndefined(); // the client sets the multipart boundary
  });
});
