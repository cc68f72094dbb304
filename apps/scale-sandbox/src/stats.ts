/**
 * How many requests each key made, per route (`POST /v1/task/:type`), counted after authentication and before
 * faults: a test can assert that a client retried exactly twice, or that a rate limit held.
 */
export class RequestStats {
  private readonly counts = new Map<string, Map<string, number>>();

  record(key: string, route: string): void {
    let byRoute = this.counts.get(key);
    if (!byRoute) {
      byRoute = new Map();
      this.counts.set(key, byRoute);
    }
    byRoute.set(route, (byRoute.get(route) ?? 0) + 1);
  }

  /** `{ total, routes: { "POST /v1/task/:type": 3, … } }` for one key. */
  of(key: string): { total: number; routes: Record<string, number> } {
    const routes = Object.fromEntries(this.counts.get(key) ?? []);
    return { total: Object.values(routes).reduce((a, b) => a + b, 0), routes };
  }

  clear(key?: string): void {
    if (key === undefined) this.counts.clear();
    else this.counts.delete(key);
  }
}
