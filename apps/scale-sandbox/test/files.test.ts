import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_UPLOAD_BYTES } from "../src/index";
import { sandbox, sandboxForFile, type Answer } from "./helpers";

const KEY = "test_files";
const auth = { authorization: `Basic ${Buffer.from(`${KEY}:`).toString("base64")}` };
const sb = sandboxForFile({ keys: [KEY], maxUploadBytes: 4096 });
const c = sb.client(KEY);
beforeAll(async () => {
  await c.post("/v1/projects", { name: "assets", type: "imageannotation" });
  await c.post("/v1/projects", { name: "other", type: "imageannotation" });
});

/** A multipart upload as Scale's SDK sends it: the fields first, then the file part. */
async function upload(fields: Record<string, string>, file?: { name: string; bytes: Buffer; type?: string }): Promise<Answer> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append("file", new Blob([file.bytes], file.type === undefined ? {} : { type: file.type }), file.name);
  const response = await fetch(`${sb.url}/v1/files/upload`, { method: "POST", headers: auth, body: form });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe("POST /v1/files/upload", () => {
  it("stores an uploaded file and answers Scale's file object", async () => {
    const answer = await upload(
      { project_name: "assets", display_name: "Cat", reference_id: "ref-1", metadata: JSON.stringify({ kind: "cat" }) },
      { name: "cat.png", bytes: Buffer.alloc(300, 1) },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ mime_type: "image/png", size: 300, project_names: ["assets"], display_name: "Cat", reference_id: "ref-1", metadata: { kind: "cat" } });
    expect(answer.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body.attachment_url).toMatch(new RegExp(`^scaledata://[0-9a-f]{24}/${answer.body.id}$`));
    // The file can be used as a task attachment.
    const task = await c.post("/v1/task/imageannotation", { attachment: answer.body.attachment_url, geometries: { point: { objects_to_annotate: ["eye"] } } });
    expect(task.status).toBe(200);
  });

  it("accepts the SDK's exact form: fields before the file, a file part without a Content-Type of its own", async () => {
    const boundary = "sdkboundary1234";
    const body = [
      `--${boundary}\r\nContent-Disposition: form-data; name="display_name"\r\n\r\nraw upload\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n\r\n0123456789\r\n`,
      `--${boundary}--\r\n`,
    ].join("");
    const response = await fetch(`${sb.url}/v1/files/upload`, {
      method: "POST",
      headers: { ...auth, "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ display_name: "raw upload", size: 10, mime_type: "image/jpeg", project_names: [] });
  });

  it("answers 409 for a reused reference_id, and attaches the file to another project with the same id", async () => {
    const again = await upload({ reference_id: "ref-1" }, { name: "cat.png", bytes: Buffer.alloc(10) });
    expect(again.status).toBe(409);
    expect(again.body.status_code).toBe(409);
    const shared = await upload({ reference_id: "ref-1", project_name: "other" }, { name: "cat.png", bytes: Buffer.alloc(10) });
    expect(shared.status).toBe(200);
    expect(shared.body.project_names).toEqual(["assets", "other"]);
  });

  it("answers 400 without a file, above the size limit, or with bad metadata; 404 for an unknown project", async () => {
    expect((await upload({ display_name: "nothing" })).status).toBe(400);
    const big = await upload({}, { name: "big.bin", bytes: Buffer.alloc(5000) });
    expect(big.status).toBe(400);
    expect(big.body.error).toMatch(/larger than/);
    expect((await upload({ metadata: "{oops" }, { name: "a.png", bytes: Buffer.alloc(1) })).status).toBe(400);
    expect((await upload({ project_name: "nope" }, { name: "a.png", bytes: Buffer.alloc(1) })).status).toBe(404);
    expect((await c.post("/v1/files/upload", { file: "not multipart" })).status).toBe(400);
  });

  it("allows 80 MB per file by default, as Scale does, beyond the JSON body limit", async () => {
    expect(DEFAULT_MAX_UPLOAD_BYTES).toBe(80 * 1024 * 1024);
    const plain = await sandbox({ keys: [KEY] });
    try {
      const send = async (size: number): Promise<number> => {
        const form = new FormData();
        form.append("file", new Blob([Buffer.alloc(size)]), "big.bin");
        return (await fetch(`${plain.url}/v1/files/upload`, { method: "POST", headers: auth, body: form })).status;
      };
      expect(await send(20 * 1024 * 1024)).toBe(200);
      expect(await send(DEFAULT_MAX_UPLOAD_BYTES + 1)).toBe(400);
    } finally {
      await plain.close();
    }
  });
});

describe("POST /v1/files/import", () => {
  it("records a file from a URL (without fetching it), with reference_id conflicts like uploads", async () => {
    const answer = await c.post("/v1/files/import", { file_url: "https://example.com/docs/form.pdf", project_name: "assets", reference_id: "imp-1" });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ mime_type: "application/pdf", project_names: ["assets"], reference_id: "imp-1" });
    expect((await c.post("/v1/files/import", { file_url: "https://example.com/x.pdf", reference_id: "imp-1" })).status).toBe(409);
  });

  it("answers 400 without file_url or with one that is not http(s); 404 for an unknown project", async () => {
    expect((await c.post("/v1/files/import", {})).body.error).toBe('Parameter is invalid, reason: "file_url" is required');
    expect((await c.post("/v1/files/import", { file_url: "ftp://example.com/a.png" })).status).toBe(400);
    expect((await c.post("/v1/files/import", { file_url: "https://example.com/a.png", project_name: "nope" })).status).toBe(404);
  });
});

describe("GET /v1/files and /v1/assets", () => {
  it("lists a project's files, newest first, across pages with a cursor, at both paths", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await c.post("/v1/files/import", { file_url: `https://example.com/p${i}.png`, project_name: "other", metadata: { n: i } })).body.id);
    for (const path of ["/v1/files", "/v1/assets"]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: { docs: { id: string }[]; next_cursor: string | null } } = await c.get(`${path}?project=other&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        seen.push(...page.body.docs.map((d) => d.id));
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(3);
      // 5 imports plus the shared upload of the previous test.
      expect(seen.slice(0, 5)).toEqual([...ids].reverse());
      expect(seen).toHaveLength(6);
    }
  });

  it("filters by metadata (a JSON string)", async () => {
    const found = (await c.get(`/v1/files?project=other&metadata=${encodeURIComponent(JSON.stringify({ n: 3 }))}`)).body.docs;
    expect(found).toHaveLength(1);
    expect(found[0].metadata).toEqual({ n: 3 });
  });

  it("answers 400 without a project or with a bad cursor or metadata, 404 for an unknown project", async () => {
    expect((await c.get("/v1/assets")).body.error).toBe('Parameter is invalid, reason: "project" is required');
    expect((await c.get("/v1/files?project=other&cursor=zzz")).status).toBe(400);
    expect((await c.get("/v1/files?project=other&metadata=notjson")).status).toBe(400);
    expect((await c.get("/v1/files?project=nope")).status).toBe(404);
  });
});
