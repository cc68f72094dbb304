import { extname } from "node:path";
import multipart from "@fastify/multipart";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { worldOf } from "../auth";
import type { SandboxDeps } from "../deps";
import { ScaleError, badRequest, conflict, invalidParam } from "../errors";
import { fileId } from "../ids";
import { getProject } from "../lookups";
import { Query } from "../query";
import type { FileRecord, World } from "../state";
import { checkMetadata, compileCheck } from "../validate";

interface FileInput {
  displayName?: string;
  projectName?: string;
  referenceId?: string;
  metadata?: Record<string, unknown>;
}

const checkImport = compileCheck<{ file_url: string; project_name?: string; display_name?: string; reference_id?: string; metadata?: unknown }>({
  type: "object",
  required: ["file_url"],
  properties: {
    file_url: { type: "string", minLength: 1, maxLength: 4096 },
    project_name: { type: "string", maxLength: 256 },
    display_name: { type: "string", maxLength: 1024 },
    reference_id: { type: "string", minLength: 1, maxLength: 1024 },
    metadata: { type: ["object", "string"] },
  },
});

const MIME_BY_EXTENSION: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".pdf": "application/pdf",
  ".json": "application/json",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".ogg": "video/ogg",
};

/** UPLOAD_FILE (multipart, 80 MB), IMPORT_FILE and GET_ASSETS (served at both inferred paths). */
export async function fileRoutes(app: FastifyInstance, deps: SandboxDeps): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: deps.maxUploadBytes, files: 1, fields: 20, fieldSize: 1024 * 1024, parts: 25 },
    });

    scope.post("/files/upload", async (request) => {
      const world = worldOf(request);
      if (!request.isMultipart()) throw invalidParam("file", "is required");
      const { input, file } = await readUpload(request, deps.maxUploadBytes);
      if (!file) throw invalidParam("file", "is required");
      return fileView(saveFile(world, input, file));
    });
  });

  // Scale downloads the URL; the sandbox has no outside network, so it records the file without fetching it.
  app.post("/files/import", async (request) => {
    const world = worldOf(request);
    const body = checkImport(request.body ?? {});
    if (!/^https?:\/\//i.test(body.file_url)) throw invalidParam("file_url", "must be a valid uri");
    const input: FileInput = {
      ...(body.display_name === undefined ? {} : { displayName: body.display_name }),
      ...(body.project_name === undefined ? {} : { projectName: body.project_name }),
      ...(body.reference_id === undefined ? {} : { referenceId: body.reference_id }),
      ...(body.metadata === undefined ? {} : { metadata: parseMetadata(body.metadata) }),
    };
    const path = new URL(body.file_url).pathname;
    return fileView(saveFile(world, input, { size: 0, mimeType: MIME_BY_EXTENSION[extname(path).toLowerCase()] ?? "application/octet-stream" }));
  });

  const listAssets = async (request: FastifyRequest): Promise<unknown> => {
    const world = worldOf(request);
    const q = new Query(request.query);
    const projectName = q.string("project", 256);
    if (projectName === undefined) throw invalidParam("project", "is required");
    getProject(world, projectName);
    const metadataText = q.string("metadata", 10_240);
    const filter = metadataText === undefined ? undefined : parseMetadata(metadataText);
    const limit = q.int("limit", { min: 1, max: 100 }) ?? 100;
    const before = q.cursorSeq("cursor", world.files);
    const docs: FileRecord[] = [];
    let more = false;
    for (let i = world.fileOrder.length - 1; i >= 0; i--) {
      const file = world.fileOrder[i] as FileRecord;
      if (file.seq >= before || !file.projectNames.includes(projectName) || !matchesMetadata(file, filter)) continue;
      if (docs.length === limit) {
        more = true;
        break;
      }
      docs.push(file);
    }
    return { docs: docs.map(fileView), next_cursor: more ? (docs.at(-1)?.id ?? null) : null };
  };
  app.get("/files", listAssets);
  app.get("/assets", listAssets);
}

/** Reads the form: fields (the SDK sends them before the file) and the file, counted but never kept. */
async function readUpload(request: FastifyRequest, maxBytes: number): Promise<{ input: FileInput; file?: { size: number; mimeType: string } }> {
  const input: FileInput = {};
  let file: { size: number; mimeType: string } | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === "file") {
        let size = 0;
        for await (const chunk of part.file as AsyncIterable<Buffer>) size += chunk.length;
        if (part.fieldname !== "file") continue;
        // The SDK's file part has no Content-Type (busboy then says text/plain): the extension tells more.
        const guessed = MIME_BY_EXTENSION[extname(part.filename ?? "").toLowerCase()];
        file = { size, mimeType: guessed ?? (part.mimetype || "application/octet-stream") };
        continue;
      }
      const value = typeof part.value === "string" ? part.value : String(part.value);
      if (part.fieldname === "display_name") input.displayName = value;
      else if (part.fieldname === "project_name" && value !== "") input.projectName = value;
      else if (part.fieldname === "reference_id" && value !== "") input.referenceId = value;
      else if (part.fieldname === "metadata" && value !== "") input.metadata = parseMetadata(value);
    }
  } catch (error) {
    if (error instanceof ScaleError) throw error;
    const code = (error as { code?: string }).code;
    if (code === "FST_REQ_FILE_TOO_LARGE") throw badRequest(`File is larger than the ${Math.round(maxBytes / (1024 * 1024))}MB limit.`);
    throw badRequest("The multipart body could not be read.");
  }
  return file ? { input, file } : { input };
}

/** `metadata` comes as a JSON string in forms and in the assets filter. */
function parseMetadata(value: unknown): Record<string, unknown> {
  if (typeof value !== "string") return checkMetadata(value);
  try {
    return checkMetadata(JSON.parse(value));
  } catch (error) {
    if (error instanceof ScaleError) throw error;
    throw invalidParam("metadata", "must be a valid JSON object");
  }
}

/**
 * Stores a file, or with a known `reference_id` attaches the existing file to another project (Scale's way of
 * sharing one file between projects); the same reference_id for nothing new is a 409.
 */
function saveFile(world: World, input: FileInput, content: { size: number; mimeType: string }): FileRecord {
  if (input.projectName !== undefined) getProject(world, input.projectName);
  if (input.referenceId !== undefined) {
    const existing = world.files.get(world.fileReferences.get(input.referenceId) ?? "");
    if (existing) {
      if (input.projectName === undefined || existing.projectNames.includes(input.projectName)) {
        throw conflict(`A file with reference_id ${input.referenceId} already exists.`);
      }
      existing.projectNames.push(input.projectName);
      existing.updatedAt = new Date().toISOString();
      return existing;
    }
  }
  const id = fileId();
  const now = new Date().toISOString();
  const file: FileRecord = {
    id,
    seq: world.nextSeq(),
    attachmentUrl: `scaledata://${world.customerId}/${id}`,
    createdAt: now,
    updatedAt: now,
    mimeType: content.mimeType,
    projectNames: input.projectName === undefined ? [] : [input.projectName],
    size: content.size,
    displayName: input.displayName,
    referenceId: input.referenceId,
    metadata: input.metadata ?? {},
  };
  world.files.set(id, file);
  world.fileOrder.push(file);
  if (input.referenceId !== undefined) world.fileReferences.set(input.referenceId, id);
  return file;
}

function matchesMetadata(file: FileRecord, filter: Record<string, unknown> | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, value]) => JSON.stringify(file.metadata[key]) === JSON.stringify(value));
}

/** A file as Scale answers it (reference §4.5). */
function fileView(file: FileRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: file.id,
    attachment_url: file.attachmentUrl,
    created_at: file.createdAt,
    updated_at: file.updatedAt,
    mime_type: file.mimeType,
    project_names: file.projectNames,
    size: file.size,
    metadata: file.metadata,
  };
  if (file.displayName !== undefined) view["display_name"] = file.displayName;
  if (file.referenceId !== undefined) view["reference_id"] = file.referenceId;
  return view;
}
