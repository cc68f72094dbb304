import { objectId } from "./ids";
import type { TaskType } from "./task-types";

/** `live_…` keys need a human (here: a control call or a delay) to finish tasks; `test_…` keys finish them at once. */
export type Mode = "live" | "test";
/** A task's statuses; GET /v1/tasks checks its `status` filter against this list. */
export const TASK_STATUSES = ["pending", "completed", "canceled", "error"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** A customer audit's verdicts, in the order Scale lists them (after `pending`) when refusing a `customer_review_status`. */
export const AUDIT_RESULTS = ["accepted", "fixed", "commented", "rejected"] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export interface AuditRecord {
  readonly id: string;
  readonly task_id: string;
  readonly audit_result: AuditResult;
  readonly audited_by: string;
  readonly audited_at: string;
  readonly audit_time_secs: number;
  readonly audit_source: "customer";
  readonly comments?: string;
}

/** A result file a completed task's response points at (served by GET /v1/task/:id/response_url/:uuid). */
export interface ResultDocument {
  readonly contentType: string;
  readonly body: Buffer | Record<string, unknown> | readonly unknown[];
}

export interface TaskRecord {
  readonly id: string;
  /** Creation order within its world: lists sort on it and cursors point at it. */
  readonly seq: number;
  readonly type: TaskType;
  status: TaskStatus;
  readonly createdAt: string;
  updatedAt: string;
  completedAt: string | undefined;
  instruction: string | undefined;
  readonly params: Record<string, unknown>;
  callbackUrl: string | undefined;
  callbackSucceeded: boolean | undefined;
  response: Record<string, unknown> | undefined;
  metadata: Record<string, unknown>;
  /** Absent until tags are first set, as on Scale. */
  tags: string[] | undefined;
  uniqueId: string | undefined;
  readonly project: string | undefined;
  readonly batch: string | undefined;
  readonly priority: number;
  readonly clearUniqueIdOnError: boolean;
  readonly audits: AuditRecord[];
  customerReviewStatus: AuditResult | undefined;
  readonly projectParamVersion: number | undefined;
  readonly results: Map<string, ResultDocument>;
  /** Type-specific fields Scale sets beside `response` on completion (e.g. `document_pages`). */
  extras: Record<string, unknown>;
}

export interface BatchRecord {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly callback: string;
  /** Stored state; `completed` is derived from the batch's tasks (see batchStatus). */
  status: "staging" | "in_progress";
  readonly createdAt: string;
  updatedAt: string;
  readonly metadata: Record<string, unknown>;
  readonly selfLabel: boolean;
  readonly calibration: boolean;
}

export interface ParamVersion {
  readonly version: number;
  readonly created_at: string;
  readonly [param: string]: unknown;
}

export interface OntologyVersion {
  readonly version: number;
  readonly name: string | undefined;
  readonly ontology: readonly unknown[];
  readonly created_at: string;
}

export interface ProjectRecord {
  readonly id: string;
  readonly name: string;
  readonly type: TaskType;
  readonly createdAt: string;
  readonly paramHistory: ParamVersion[];
  readonly ontologies: OntologyVersion[];
  readonly rapid: boolean;
  readonly studio: boolean;
  archived: boolean;
}

export interface FileRecord {
  readonly id: string;
  readonly seq: number;
  readonly attachmentUrl: string;
  readonly createdAt: string;
  updatedAt: string;
  readonly mimeType: string;
  readonly projectNames: string[];
  readonly size: number;
  readonly displayName: string | undefined;
  readonly referenceId: string | undefined;
  readonly metadata: Record<string, unknown>;
}

export interface Teammate {
  readonly email: string;
  role: "labeler" | "member" | "manager" | "admin" | "disabled";
  readonly firstName?: string;
  readonly lastName?: string;
  readonly company?: string;
  isStudioLabeler: boolean;
  readonly disableRapidEmails: boolean;
  /** Set while the invitation is pending; cleared when it is accepted (POST /sandbox/keys/:key/team/accept). */
  expiry: string | undefined;
}

/** The email of the teammate every world starts with; audits made through the API carry it. */
export const OWNER_EMAIL = "owner@example.com";

/**
 * Everything one API key sees. Each accepted key is its own world, as Scale's live and test environments are
 * fully separate: a project of one key cannot be referenced with another.
 */
export class World {
  readonly key: string;
  readonly mode: Mode;
  /** Appears in the `scaledata://<customer>/<file>` URLs of uploaded files. */
  readonly customerId = objectId();
  readonly tasks = new Map<string, TaskRecord>();
  /** Tasks in creation order (ascending seq); lists walk it backwards. */
  readonly taskOrder: TaskRecord[] = [];
  /** unique_id → task id; global across the world's projects and task types, as on Scale. */
  readonly uniqueIds = new Map<string, string>();
  /** Idempotency-Key header → task id. */
  readonly idempotencyKeys = new Map<string, string>();
  readonly batches = new Map<string, BatchRecord>();
  readonly projects = new Map<string, ProjectRecord>();
  readonly files = new Map<string, FileRecord>();
  readonly fileOrder: FileRecord[] = [];
  /** reference_id → file id. */
  readonly fileReferences = new Map<string, string>();
  readonly team = new Map<string, Teammate>();
  /** email → project names, for Studio. */
  readonly assignments = new Map<string, string[]>();
  /** Studio batch names in the order set through set_priorities; null = the default order. */
  studioOrder: string[] | null = null;
  readonly qualityAttempts: Record<string, unknown>[] = [];
  private seq = 0;

  constructor(key: string) {
    this.key = key;
    this.mode = key.startsWith("test_") ? "test" : "live";
    this.team.set(OWNER_EMAIL, {
      email: OWNER_EMAIL,
      role: "admin",
      firstName: "Sandbox",
      lastName: "Owner",
      company: "Scale Sandbox",
      isStudioLabeler: false,
      disableRapidEmails: false,
      expiry: undefined,
    });
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  addTask(task: TaskRecord): void {
    this.tasks.set(task.id, task);
    this.taskOrder.push(task);
    if (task.uniqueId !== undefined) this.uniqueIds.set(task.uniqueId, task.id);
  }
}

/** The keys the sandbox accepts and their worlds. */
export class Store {
  private readonly worlds = new Map<string, World>();
  private readonly resetListeners: ((world: World) => void)[] = [];

  constructor(keys: readonly string[]) {
    for (const key of keys) this.addKey(key);
  }

  /** Accepts a key (idempotent: an existing key keeps its world). Returns whether it was new. */
  addKey(key: string): boolean {
    if (this.worlds.has(key)) return false;
    this.worlds.set(key, new World(key));
    return true;
  }

  /** Stops accepting a key and forgets its world. Returns whether it existed. */
  removeKey(key: string): boolean {
    const world = this.worlds.get(key);
    if (!world) return false;
    this.worlds.delete(key);
    this.notifyReset(world);
    return true;
  }

  keys(): string[] {
    return [...this.worlds.keys()];
  }

  world(key: string): World | undefined {
    return this.worlds.get(key);
  }

  /** Finds a task by id in any world (task ids are unique across worlds). */
  findTask(taskId: string): { world: World; task: TaskRecord } | undefined {
    for (const world of this.worlds.values()) {
      const task = world.tasks.get(taskId);
      if (task) return { world, task };
    }
    return undefined;
  }

  /** Empties one key's world, or every world; the keys stay accepted. */
  reset(key?: string): void {
    for (const [k, world] of this.worlds) {
      if (key !== undefined && k !== key) continue;
      this.worlds.set(k, new World(k));
      this.notifyReset(world);
    }
  }

  /** Called with each world that a reset or a key removal throws away (to cancel its timers). */
  onReset(listener: (world: World) => void): void {
    this.resetListeners.push(listener);
  }

  private notifyReset(world: World): void {
    for (const listener of this.resetListeners) listener(world);
  }
}
