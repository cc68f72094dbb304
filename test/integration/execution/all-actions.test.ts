// Issue 6, item 8: every one of the 40 Scale AI actions runs end to end (API → queue → worker → runner → sandbox over
// HTTP → envelope), in one ordered scenario whose inputs build on each other, and each answer is checked against the
// action's output schema.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import type { ConnectedWorkspace } from "../../support/workspace";
import { startCallbackReceiver } from "../../support/callback-receiver";

let s: TestStack;
let ws: ConnectedWorkspace;
let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;
const covered = new Set<string>();

beforeAll(async () => {
  ({ s, ws } = await createStackWithWorkspace());
  receiver = await startCallbackReceiver();
  // No action creates projects: they are made on the sandbox directly, one per task type (a project holds one type).
  const projects: [string, string][] = [
    ["kitten_labeling", "imageannotation"],
    ["kitten_segmentation", "segmentannotation"],
    ["street_scenes_3d", "lidarannotation"],
    ["street_scenes_3d_seg", "lidarsegmentation"],
    ["news_entities", "namedentityrecognition"],
    ["invoice_transcription", "documenttranscription"],
    ["company_facts", "textcollection"],
    ["traffic_video", "videoannotation"],
    ["traffic_video_playback", "videoplaybackannotation"],
  ];
  for (const [name, type] of projects) await ws.createProject(name, type);
  const studio = await ws.scale("POST", "/v1/projects", { type: "imageannotation", name: "studio_kittens", studio: true });
  expect(studio.status).toBe(200);
});

afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

/** Executes an action synchronously, expects success and an answer valid against its output schema. */
async function run(slug: string, input: Record<string, unknown>): Promise<any> {
  const res = await s.execute(ws.apiKey, slug, { input });
  expect(res.status, `${slug}: ${JSON.stringify(res.body)}`).toBe(200);
  expect(res.body, slug).toMatchObject({ run_id: expect.any(String), error: null, successful: true });
  const check = s.infra.registry.validateOutput(slug, res.body.data);
  expect(check.valid ? [] : check.errors, `${slug}: the answer does not match the output schema`).toEqual([]);
  covered.add(slug);
  return res.body.data;
}

describe("all 40 Scale AI actions, end to end against the sandbox", () => {
  it("runs an ordered scenario: projects → batch → a task of every type → tags, metadata, unique ids → callbacks, results, audits → finalize → files → team → studio → quality", async () => {
    const callback_url = receiver.url;

    // Projects
    const projects = await run("SCALE_AI_LIST_PROJECTS", { limit: 20, offset: 0, archived: false });
    expect(projects.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["kitten_labeling", "studio_kittens"]));
    expect(await run("SCALE_AI_GET_PROJECT", { project_name: "kitten_labeling" })).toMatchObject({ name: "kitten_labeling", type: "imageannotation" });
    const params = await run("SCALE_AI_SET_PROJECT_PARAMS", {
      name: "kitten_labeling", patch: true, params: { geometries: { box: { objects_to_annotate: ["kitten"] } } }, priority: 30, instruction: "Also mark kittens that are asleep.",
    });
    expect(params.param_history.at(-1)).toMatchObject({ version: 1, instruction: "Also mark kittens that are asleep." });
    const ontology = await run("SCALE_AI_SET_PROJECT_ONTOLOGY", {
      project_name: "kitten_labeling", ontology_name: "v2_with_dogs", ontology: ["kitten", "adult_cat", { choice: "dog", subchoices: ["puppy", "adult_dog"] }],
    });
    expect(ontology.ontologies).toEqual([expect.objectContaining({ name: "v2_with_dogs", version: 0 })]);

    // Batch
    expect(await run("SCALE_AI_CREATE_BATCH", { name: "batch_01", project: "kitten_labeling", callback: callback_url, self_label_batch: false, calibration_batch: false }))
      .toMatchObject({ name: "batch_01", project: "kitten_labeling", status: "in_progress" });
    expect(await run("SCALE_AI_GET_BATCH", { batch_name: "batch_01" })).toMatchObject({ name: "batch_01" });
    const batches = await run("SCALE_AI_LIST_BATCHES", { limit: 50, offset: 0, status: "in_progress", project: "kitten_labeling", detailed: true });
    expect(batches.docs.map((b: { name: string }) => b.name)).toEqual(["batch_01"]);

    // One task of every type, each with a unique id (tasks of test_ keys complete at once and call back).
    const image = await run("SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", {
      tags: ["experiment_1", "owner:david"], batch: "batch_01", project: "kitten_labeling", padding: 10, paddingX: 20, priority: 30, unique_id: "kitten_001",
      metadata: { source: "shelter_camera_3", frame: 1 }, attachment: "https://example.com/images/kitten_001.jpg",
      geometries: { box: { objects_to_annotate: ["kitten", { choice: "adult_cat", subchoices: ["sitting", "standing"] }], min_height: 10, min_width: 10 }, point: { objects_to_annotate: ["kitten_nose"] } },
      instruction: "Draw a tight box around every **kitten**.", callback_url,
      context_attachments: [{ attachment: "https://example.com/images/kitten_001_wide.jpg" }],
      annotation_attributes: { occluded: { type: "category", description: "Is the object partly hidden?", choices: ["yes", "no"] } },
      clear_unique_id_on_error: true,
    });
    expect(image).toMatchObject({ type: "imageannotation", status: "completed", batch: "batch_01", unique_id: "kitten_001" });
    const segmentation = await run("SCALE_AI_CREATE_SEGMENTATION_ANNOTATION_TASK", {
      tags: ["segmentation"], project: "kitten_segmentation", labels: ["kitten", "floor", { choice: "furniture", subchoices: ["sofa", "table"] }],
      metadata: { source: "shelter_camera_3" }, unique_id: "kitten_002_seg", attachment: "https://example.com/images/kitten_002.jpg",
      instruction: "Paint every pixel that belongs to a kitten or the floor.", callback_url, allow_unlabeled: false, attachment_type: "image",
    });
    expect(segmentation).toMatchObject({ type: "segmentannotation", unique_id: "kitten_002_seg" });
    const lidar = await run("SCALE_AI_CREATE_LIDAR_ANNOTATION_TASK", {
      tags: ["lidar", "downtown"], project: "street_scenes_3d", labels: ["car", "truck", "pedestrian", { choice: "cyclist", subchoices: ["bicycle", "motorcycle"] }],
      metadata: { vehicle: "test_car_2" }, priority: 20, unique_id: "scene_17",
      attachments: ["https://example.com/scenes/scene_17/frame_000.json", "https://example.com/scenes/scene_17/frame_001.json"],
      instruction: "Fit a cuboid around every vehicle.", callback_url, attachment_type: "json", meters_per_unit: 1, max_distance_meters: 50,
    });
    expect(lidar).toMatchObject({ type: "lidarannotation", status: "completed", response: { annotations: { url: expect.any(String) } } });
    await run("SCALE_AI_CREATE_LIDAR_SEGMENTATION_TASK", {
      tags: ["lidar", "segmentation"], project: "street_scenes_3d_seg", labels: ["vehicle", "pedestrian", "road"], unique_id: "scene_17_seg",
      attachments: ["https://example.com/scenes/scene_17/frame_000.json"], callback_url, attachment_type: "json",
    });
    await run("SCALE_AI_CREATE_NAMED_ENTITY_RECOGNITION_TASK", {
      tags: ["news"], project: "news_entities", text: "Ada Lovelace met Charles Babbage in London in 1833.",
      labels: [{ name: "PERSON", description: "A named person" }, { name: "LOCATION" }, { name: "DATE" }],
      metadata: { article_id: 4411 }, unique_id: "article_4411_p1", instruction: "Highlight every person, location and date.", callback_url,
      relationships: [{ name: "met", display_name: "Met", is_directed: false, source_label: "PERSON", target_label: "PERSON" }], allow_overlapping_spans: false,
    });
    await run("SCALE_AI_CREATE_DOCUMENT_TRANSCRIPTION_TASK", {
      lang: "en-US", tags: ["invoices"], project: "invoice_transcription", title: "Transcribe invoice totals",
      features: [{ type: "text", label: "vendor_name", flags: ["line"] }, { type: "text", label: "total_amount", flags: ["money"] }],
      geometry: "box", metadata: { customer_id: "cus_8812" }, priority: 30, unique_id: "inv_2024_001",
      attachments: ["https://example.com/invoices/inv_2024_001_p1.png", "https://example.com/invoices/inv_2024_001_p2.png"],
      instruction: "Transcribe the vendor name and the total amount.", callback_url, responses_required: 1,
    });
    await run("SCALE_AI_CREATE_TEXT_COLLECTION_TASK", {
      tags: ["research"], project: "company_facts", title: "Company headquarters",
      fields: [{ type: "text", field_id: "hq_city", title: "Headquarters city" }, { type: "category", field_id: "industry", title: "Industry", choices: [{ label: "Software", value: "software" }] }],
      unique_id: "company_facts_0193", attachments: [{ type: "website", content: "https://www.example.com/about" }],
      instruction: "Record the city of the company's headquarters.", callback_url, responses_required: 1,
    });
    await run("SCALE_AI_CREATE_VIDEO_ANNOTATION_TASK", {
      tags: ["traffic"], project: "traffic_video", padding: 20, metadata: { camera: "intersection_5th_main" }, priority: 30, unique_id: "intersection_0042",
      attachment: "https://example.com/videos/intersection_0042.mp4", frame_rate: 2, attachment_type: "video",
      geometries: { box: { objects_to_annotate: ["car", "pedestrian"], min_height: 5, min_width: 5 } },
      instruction: "Track every car and pedestrian.", callback_url, events_to_annotate: ["car_turns_left"],
    });
    await run("SCALE_AI_CREATE_VIDEO_PLAYBACK_ANNOTATION_TASK", {
      tags: ["traffic"], project: "traffic_video_playback", priority: 20, unique_id: "intersection_0042_playback",
      attachment: "https://example.com/videos/intersection_0042.mp4", frame_rate: 1, start_time: 0, duration_time: [0, 30], attachment_type: "video",
      geometries: { box: { objects_to_annotate: ["car"] }, polygon: { objects_to_annotate: ["crosswalk"], min_vertices: 4 } },
      instruction: "Track every car across the clip.", callback_url,
    });

    // Reading tasks back
    expect(await run("SCALE_AI_GET_V1_TASK", { task_id: image.task_id })).toMatchObject({ task_id: image.task_id, unique_id: "kitten_001" });
    const listed = await run("SCALE_AI_LIST_TASKS", { tags: ["experiment_1"], type: "imageannotation", batch: "batch_01", project: "kitten_labeling", status: "completed", limit: 100 });
    expect(listed.docs.map((t: { task_id: string }) => t.task_id)).toEqual([image.task_id]);

    // Tags, metadata, unique ids
    expect((await run("SCALE_AI_ADD_TASK_TAGS", { task_id: image.task_id, tags: ["reviewed"] })).tags).toEqual(expect.arrayContaining(["experiment_1", "owner:david", "reviewed"]));
    expect((await run("SCALE_AI_DELETE_TASK_TAGS", { task_id: image.task_id, tags: ["experiment_1"] })).tags).not.toContain("experiment_1");
    expect(await run("SCALE_AI_SET_TASK_METADATA", { task_id: image.task_id, metadata: { reviewed: true, reviewer: "ana@example.com", score: 0.92 } }))
      .toMatchObject({ metadata: { reviewed: true, reviewer: "ana@example.com", score: 0.92 } });
    expect(await run("SCALE_AI_UPDATE_TASK_UNIQUE_ID", { task_id: image.task_id, unique_id: "kitten_001_v2" })).toMatchObject({ unique_id: "kitten_001_v2" });
    expect(await run("SCALE_AI_DELETE_TASK_UNIQUE_ID", { task_id: segmentation.task_id })).not.toHaveProperty("unique_id");

    // Callbacks, secure result URLs, audits
    const before = receiver.received.filter((r) => r.body?.task_id === image.task_id).length;
    expect(await run("SCALE_AI_POST_V1_TASK_SEND_CALLBACK", { task_id: image.task_id })).toEqual({ success: true });
    await expect.poll(() => receiver.received.filter((r) => r.body?.task_id === image.task_id).length, { timeout: 10_000 }).toBeGreaterThan(before);
    const resultUrl = new URL(lidar.response.annotations.url as string);
    const uuid = resultUrl.pathname.split("/").at(-1)!;
    const frames = await run("SCALE_AI_GET_V1_TASK_RESPONSE_URL", { task_id: lidar.task_id, uuid });
    expect(frames).toEqual([expect.objectContaining({ frame: 0, cuboids: expect.any(Array) }), expect.objectContaining({ frame: 1 })]);
    const audit = await ws.scale("POST", `/v1/task/${image.task_id}/audit`, { accepted: true, comments: "Tight boxes." });
    expect(audit.status).toBe(200);
    const audits = await run("SCALE_AI_GET_FIXLESS_AUDITS", { task_id: image.task_id });
    expect(audits.docs).toHaveLength(1);

    // Finalize and status
    await run("SCALE_AI_FINALIZE_BATCH", { batch_name: "batch_01" });
    expect(await run("SCALE_AI_GET_BATCH_STATUS", { batch_name: "batch_01" })).toMatchObject({ status: expect.any(String) });

    // Files
    const uploaded = await run("SCALE_AI_UPLOAD_FILE", {
      file: { filename: "kitten_004.png", content_type: "image/png", content_base64: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" },
      metadata: { source: "shelter_camera_3" }, display_name: "Kitten 004", project_name: "kitten_labeling", reference_id: "kitten_004_png",
    });
    expect(uploaded).toMatchObject({ mime_type: "image/png", size: 70, reference_id: "kitten_004_png", project_names: ["kitten_labeling"] });
    const imported = await run("SCALE_AI_IMPORT_FILE", { file_url: "https://example.com/images/kitten_003.jpg", project_name: "kitten_labeling" });
    expect(imported).toMatchObject({ mime_type: "image/jpeg" });
    const assets = await run("SCALE_AI_GET_ASSETS", { project: "kitten_labeling", metadata: JSON.stringify({ source: "shelter_camera_3" }) });
    expect(assets.docs.map((f: { id: string }) => f.id)).toEqual([uploaded.id]);

    // Team: invite, then accept through the sandbox (Studio assignments need active teammates)
    const invited = await run("SCALE_AI_INVITE_TEAM_MEMBER", { emails: ["ana@example.com", "li@example.com"], team_role: "labeler" });
    expect(invited).toEqual(expect.arrayContaining([expect.objectContaining({ email: "ana@example.com", expiry: expect.any(String) })]));
    expect(s.sandbox.control.acceptInvitations(ws.scaleKey)).toBe(2);
    const team = await run("SCALE_AI_GET_TEAMS", {});
    expect(team.find((m: { email: string }) => m.email === "li@example.com")).not.toHaveProperty("expiry");

    // Studio assignments
    expect(await run("SCALE_AI_ADD_STUDIO_ASSIGNMENTS", { emails: ["ana@example.com", "li@example.com"], projects: ["kitten_labeling", "kitten_segmentation"] }))
      .toMatchObject({ "ana@example.com": ["kitten_labeling", "kitten_segmentation"] });
    expect(await run("SCALE_AI_GET_STUDIO_ASSIGNMENTS", {})).toMatchObject({ "li@example.com": ["kitten_labeling", "kitten_segmentation"] });
    expect(await run("SCALE_AI_REMOVE_STUDIO_ASSIGNMENTS", { emails: ["ana@example.com"], projects: ["kitten_segmentation"] }))
      .toMatchObject({ "ana@example.com": ["kitten_labeling"], "li@example.com": ["kitten_labeling", "kitten_segmentation"] });

    // Studio batches and their priorities
    await run("SCALE_AI_CREATE_BATCH", { name: "studio_01", project: "studio_kittens" });
    await run("SCALE_AI_CREATE_BATCH", { name: "studio_02", project: "studio_kittens" });
    const studioBatches = await run("SCALE_AI_GET_STUDIO_BATCHES", {});
    expect(studioBatches.map((b: { name: string }) => b.name)).toEqual(["studio_01", "studio_02"]);
    const reordered = await run("SCALE_AI_SET_BATCH_PRIORITIES", { batches: [{ name: "studio_02" }, { name: "studio_01" }] });
    expect(reordered.map((b: { name: string; studioPriority: number }) => [b.name, b.studioPriority])).toEqual([["studio_02", 1], ["studio_01", 2]]);
    const reset = await run("SCALE_AI_RESET_BATCH_PRIORITIES", { groups: ["default"] });
    expect(reset.map((b: { name: string }) => b.name)).toEqual(["studio_01", "studio_02"]);

    // Quality: labelers' training attempts, seeded through the sandbox (Scale documents no shape for them)
    s.sandbox.control.addQualityAttempts(ws.scaleKey, [
      { labeler_email: "ana@example.com", quality_task_id: "6512a4f0c2b1e3001f9a7c21", score: 0.9 },
      { labeler_email: "li@example.com", quality_task_id: "6512a4f0c2b1e3001f9a7c21", score: 0.7 },
    ]);
    const labelers = await run("SCALE_AI_GET_QUALITY_LABELERS", { limit: 50, labeler_emails: ["ana@example.com"], quality_task_ids: ["6512a4f0c2b1e3001f9a7c21"] });
    expect(labelers.docs).toEqual([expect.objectContaining({ labeler_email: "ana@example.com", score: 0.9 })]);

    // Exactly the registry's 40 actions were run, no more and no fewer.
    const all = s.infra.registry.listActions({ integration: "scale_ai", limit: 100 }).actions.map((a: { slug: string }) => a.slug).sort();
    expect(all).toHaveLength(40);
    expect([...covered].sort()).toEqual(all);

    // Every run ended once, in one attempt, and no worker warned about an answer outside its schema.
    const runs = await s.db.pool.query<{ status: string; attempts_count: number }>("SELECT status, attempts_count FROM run WHERE workspace_id = $1", [ws.id]);
    expect(runs.rows.every((r) => r.status === "succeeded" && r.attempts_count === 1)).toBe(true);
    expect(s.logs.filter((line) => line.includes("does not match the action's output schema"))).toEqual([]);
  });
});
