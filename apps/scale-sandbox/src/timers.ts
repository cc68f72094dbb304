import type { World } from "./state";

/**
 * Timers the sandbox sets on behalf of a world (live-task completion, callback retries). They are unref'd so they
 * never keep a process alive, and cancelled together when the world is reset or the sandbox closes.
 */
export class Timers {
  private readonly byWorld = new Map<World, Set<NodeJS.Timeout>>();
  private closed = false;

  schedule(world: World, delayMs: number, run: () => void): void {
    if (this.closed) return;
    let set = this.byWorld.get(world);
    if (!set) {
      set = new Set();
      this.byWorld.set(world, set);
    }
    const owner = set;
    const timer = setTimeout(() => {
      owner.delete(timer);
      run();
    }, delayMs);
    timer.unref();
    owner.add(timer);
  }

  cancel(world: World): void {
    const set = this.byWorld.get(world);
    if (!set) return;
    for (const timer of set) clearTimeout(timer);
    this.byWorld.delete(world);
  }

  close(): void {
    this.closed = true;
    for (const world of [...this.byWorld.keys()]) this.cancel(world);
  }
}
