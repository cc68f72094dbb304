import { notFound } from "./errors";
import type { BatchRecord, ProjectRecord, TaskRecord, World } from "./state";

// Another key's resource is simply not found: worlds never see each other.

export function getTask(world: World, taskId: string): TaskRecord {
  const task = world.tasks.get(taskId);
  if (!task) throw notFound(`Task ${taskId} not found.`);
  return task;
}

export function getProject(world: World, name: string): ProjectRecord {
  const project = world.projects.get(name);
  if (!project) throw notFound(`Project ${name} not found.`);
  return project;
}

export function getBatch(world: World, name: string): BatchRecord {
  const batch = world.batches.get(name);
  if (!batch) throw notFound(`Batch ${name} not found.`);
  return batch;
}
