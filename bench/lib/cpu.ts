import { readFileSync, readdirSync } from "node:fs";

/** CPU time (ms, user + system) used so far, per role: the given processes by pid, PostgreSQL's and Redis's by name. */
export function cpuByRole(pids: Readonly<Record<string, number>>): Map<string, number> {
  const byPid = new Map(Object.entries(pids).map(([role, pid]) => [pid, role]));
  const out = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const role = byPid.get(Number(entry)) ?? (name === "postgres" ? "postgres" : name === "redis-server" ? "redis" : null);
    if (role === null) continue;
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
    out.set(role, (out.get(role) ?? 0) + ticks * 10); // USER_HZ is 100 on Linux
  }
  return out;
}

/** "role µs, …" per unit of work between two `cpuByRole` readings, largest first, and their sum. */
export function cpuPerUnit(before: Map<string, number>, after: Map<string, number>, units: number): { text: string; totalUs: number } {
  const parts = [...after].map(([role, ms]) => [role, ((ms - (before.get(role) ?? 0)) * 1000) / units] as const).sort((a, b) => b[1] - a[1]);
  const totalUs = parts.reduce((sum, [, us]) => sum + us, 0);
  return { text: parts.map(([role, us]) => `${role} ${us.toFixed(0)}`).join(", "), totalUs };
}
