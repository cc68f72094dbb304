import type { Redis } from "ioredis";

/**
 * The Lua scripts of fairness (see fairness.ts). Each serves a batch of runs in one EVALSHA round trip, atomically
 * (ioredis's MULTI costs far more CPU per call). A script's calling convention is named once, in its `layout`: ARGV
 * shared by the batch (numbers), then per run its keys and its ARGV (strings). KEYS holds each distinct key once (the
 * runs of a batch mostly share their workspace's and connection's keys), and a run's ARGV names its keys by their
 * place in KEYS, before its own values. The Lua gets a prologue that declares every name as a local (the per-run ones
 * inside the loop over the runs, `run` being the run's 1-based index), so the script's body speaks of names, never of
 * positions; `runScript` builds KEYS and ARGV from objects with the same names, in the same order. A body that answers
 * sets `results[run]`.
 */

/** Pace state, turns and lines of a connection idle this long go away (ms); so do places in a line this old. */
const PACE_TTL_MS = 600_000;
/** A workspace's pending count idle this long goes away (ms). */
const PENDING_TTL_MS = 3_600_000;

/** ADMIT's answer per run, (answer, wait ms): the names are Lua locals too. A waiting run holds no slot. */
export const ADMIT_ANSWERS = {
  /** A workspace slot is taken (and a turn of the pace, unless the run came back on its reserved turn). */
  ADMITTED: 0,
  /** The workspace is at its cap. */
  AT_CAP: 1,
  /** A turn of the pace is reserved for the run, wait ms from now: come back exactly then. */
  TURN_RESERVED: 2,
  /** The connection is paused (an upstream's Retry-After) for wait ms. */
  PAUSED: 3,
  /** No turn within the horizon: the run has a place in the connection's line; come back in about wait ms. */
  IN_LINE: 4,
} as const;

interface Layout<S extends string, K extends string, A extends string> {
  readonly shared: readonly S[];
  readonly keys: readonly K[];
  readonly args: readonly A[];
}

interface BatchScript<S extends string, K extends string, A extends string> extends Layout<S, K, A> {
  /** The ioredis command the script is defined as. */
  readonly command: string;
  readonly lua: string;
}

function batchScript<const S extends string, const K extends string, const A extends string>(
  command: string, layout: Layout<S, K, A>, definitions: string, body: string,
): BatchScript<S, K, A> {
  const { shared, keys, args } = layout;
  const perRun = keys.length + args.length;
  const lua = [
    ...shared.map((name, i) => `local ${name} = tonumber(ARGV[${i + 1}])`),
    definitions,
    "local results = {}",
    `for run = 1, (#ARGV - ${shared.length}) / ${perRun} do`,
    `  local base = ${shared.length} + ${perRun} * (run - 1)`,
    ...keys.map((name, i) => `  local ${name} = KEYS[tonumber(ARGV[base + ${i + 1}])]`),
    ...args.map((name, i) => `  local ${name} = ARGV[base + ${keys.length + i + 1}]`),
    body,
    "end",
    "return results",
  ].join("\n");
  return { command, lua, ...layout };
}

/** Takes one off a workspace's pending count, never below zero (a count lost with its key must not go negative). */
const DECREMENT_PENDING = `
local function decrementPending(pendingKey)
  if redis.call('DECR', pendingKey) < 0 then redis.call('SET', pendingKey, '0', 'PX', ${PENDING_TTL_MS}) end
end`;

/**
 * Admission of an attempt: a workspace slot, then a turn of the connection's pace. The pace is a GCRA (virtual
 * scheduling): turns are spaced 1/rate apart from `tat`, the next free turn; a run whose turn is within the burst
 * tolerance goes now; one whose turn is within the horizon reserves it and comes back exactly then (and is admitted on
 * its reservation, taking nothing more); one beyond the horizon reserves nothing, takes a place in the connection's
 * line and comes back about when its place is due at the current pace (5 horizons at most), so a lowered pace applies
 * within a horizon, not after every waiting run's turn, and a backlog costs few admissions per run.
 */
export const ADMIT = batchScript("nagentAdmit", {
  // cap: runs of one workspace at once; leaseExpiry: when a slot taken now frees itself (ms); the deployment's pace.
  shared: ["cap", "now", "leaseExpiry", "startRps", "minRps", "maxRps", "burstMs", "horizonMs"],
  // leasesKey: the workspace's running runs (sorted set: run id → lease expiry). paceKey: the connection's pace (hash:
  // tat, rate, its own min and max, limited = when a run last waited for the pace, adm/admts/used = admissions counted
  // since admts and the last second's rate). pauseKey: the Retry-After pause (until, ms). turnsKey: reserved turns
  // (hash: run id → turn). lineKey: runs waiting beyond the horizon (sorted set: run id → first arrival).
  keys: ["leasesKey", "paceKey", "pauseKey", "turnsKey", "lineKey"],
  args: ["runId"],
}, Object.entries(ADMIT_ANSWERS).map(([name, value]) => `local ${name} = ${value}`).join("\n"), `
  redis.call('ZREMRANGEBYSCORE', leasesKey, '-inf', now)
  local held = redis.call('ZSCORE', leasesKey, runId)
  local answer, waitMs = ADMITTED, 0
  if not held and redis.call('ZCARD', leasesKey) >= cap then
    answer = AT_CAP
  else
    local pausedUntil = tonumber(redis.call('GET', pauseKey) or '0')
    if pausedUntil > now then
      answer, waitMs = PAUSED, pausedUntil - now
    else
      local reserved = tonumber(redis.call('HGET', turnsKey, runId) or false)
      if reserved then redis.call('HDEL', turnsKey, runId) end
      if reserved and reserved - now > 5 then
        answer, waitMs = TURN_RESERVED, reserved - now
        redis.call('HSET', turnsKey, runId, reserved)
      elseif reserved and now - reserved <= burstMs then
        -- Its turn: go (the turn was taken when it was reserved).
      else
        -- No turn, or back too late for it (a stalled worker): runs late together must not go together (a burst
        -- the upstream would answer with 429s), so take a new turn.
        local tat, storedRps, ownMinRps, ownMaxRps = unpack(redis.call('HMGET', paceKey, 'tat', 'rate', 'min', 'max'))
        local lo = tonumber(ownMinRps) or minRps
        local hi = math.max(lo, tonumber(ownMaxRps) or maxRps)
        local rate = math.max(lo, math.min(hi, tonumber(storedRps) or startRps))
        local interval = 1000 / rate
        local turn = math.max(tonumber(tat) or now, now)
        if turn - now <= burstMs then
          redis.call('HSET', paceKey, 'tat', turn + interval)
          redis.call('ZREM', lineKey, runId)
        elseif turn - now <= horizonMs then
          answer, waitMs = TURN_RESERVED, math.ceil(turn - now)
          redis.call('HSET', paceKey, 'tat', turn + interval)
          redis.call('HSET', turnsKey, runId, turn)
          redis.call('PEXPIRE', turnsKey, ${PACE_TTL_MS})
          redis.call('ZREM', lineKey, runId)
        else
          -- Beyond the horizon: a place in the line of runs waiting for a turn (FIFO by first arrival; entries of
          -- runs gone meanwhile age out), and come back about when that place is within the horizon at the current
          -- pace, or after 5 horizons at most (so a pace that grew meanwhile is seen): a long backlog wakes each run
          -- every few seconds, not every few ms.
          redis.call('ZREMRANGEBYSCORE', lineKey, '-inf', now - ${PACE_TTL_MS})
          redis.call('ZADD', lineKey, 'NX', now, runId)
          redis.call('PEXPIRE', lineKey, ${PACE_TTL_MS})
          local place = redis.call('ZRANK', lineKey, runId) or 0
          answer, waitMs = IN_LINE, math.max(50, math.min(5 * horizonMs, math.ceil(turn - now + place * interval - horizonMs / 2)))
        end
        -- Demand exceeds the pace: successes may raise it (see RELEASE).
        if answer ~= ADMITTED then redis.call('HSET', paceKey, 'limited', now) end
        redis.call('PEXPIRE', paceKey, ${PACE_TTL_MS})
      end
    end
  end
  if answer == ADMITTED then
    -- The pace actually used: admissions per second (RELEASE grows the pace only while it is used).
    local counted, countedSince = unpack(redis.call('HMGET', paceKey, 'adm', 'admts'))
    local adm, admts = tonumber(counted) or 0, tonumber(countedSince) or now
    if now - admts >= 1000 then
      redis.call('HSET', paceKey, 'used', adm * 1000 / (now - admts), 'adm', 1, 'admts', now)
    else
      redis.call('HSET', paceKey, 'adm', adm + 1, 'admts', admts)
    end
    redis.call('ZADD', leasesKey, leaseExpiry, runId)
    redis.call('PEXPIRE', leasesKey, leaseExpiry - now + 60000)
  elseif not held then
    redis.call('ZREM', leasesKey, runId)
  end
  results[run] = { answer, waitMs }`);

/**
 * Gives back runs' slots and adapts their connections' pace. `ended` '1': the run is over, its pending count goes
 * down. `outcome` ('ok', 'slow' or '' for neither) adapts the pace of `paceKey` ('' for no connection), within the
 * connection's own bounds (`ownMinRps`, `ownMaxRps`; '' for the deployment's), which are stored in the pace so later
 * admissions apply them.
 */
export const RELEASE = batchScript("nagentRelease", {
  shared: ["now", "startRps", "minRps", "maxRps", "increasePerSec", "decreaseFactor", "decreaseCooldownMs"],
  keys: ["leasesKey", "pendingKey", "paceKey"],
  args: ["runId", "ended", "outcome", "ownMinRps", "ownMaxRps"],
}, DECREMENT_PENDING, `
  redis.call('ZREM', leasesKey, runId)
  if ended == '1' then decrementPending(pendingKey) end
  if outcome ~= '' and paceKey ~= '' then
    if ownMinRps == '' then redis.call('HDEL', paceKey, 'min') else redis.call('HSET', paceKey, 'min', ownMinRps) end
    if ownMaxRps == '' then redis.call('HDEL', paceKey, 'max') else redis.call('HSET', paceKey, 'max', ownMaxRps) end
    local lo = tonumber(ownMinRps) or minRps
    local hi = math.max(lo, tonumber(ownMaxRps) or maxRps)
    local storedRps, limitedAt, cutAt, phase, usedRps = unpack(redis.call('HMGET', paceKey, 'rate', 'limited', 'cut', 'phase', 'used'))
    local rate = math.max(lo, math.min(hi, tonumber(storedRps) or startRps))
    if outcome == 'ok' then
      -- Grow only while runs wait for the pace and the pace is used (not while the workers lag behind it).
      if now - (tonumber(limitedAt) or 0) < 1000 and (tonumber(usedRps) or rate) >= 0.75 * rate then
        if phase == 'avoid' then rate = rate + increasePerSec / rate else rate = rate + 1 end
      end
    elseif outcome == 'slow' then
      if now - (tonumber(cutAt) or 0) >= decreaseCooldownMs then
        -- Leaving slow start, the pace may be up to twice what the upstream takes: halve it (as TCP Reno does).
        if phase == 'avoid' then rate = rate * decreaseFactor else rate = rate * 0.5 end
        redis.call('HSET', paceKey, 'cut', now, 'phase', 'avoid')
      end
    end
    rate = math.max(lo, math.min(hi, rate))
    redis.call('HSET', paceKey, 'rate', rate)
    redis.call('PEXPIRE', paceKey, ${PACE_TTL_MS})
  end`);

/** Counts a new pending run of a workspace; answers its rank among that workspace's pending runs. */
export const COUNT_PENDING = batchScript("nagentCountPending", { shared: [], keys: ["pendingKey"], args: [] }, "", `
  results[run] = redis.call('INCR', pendingKey)
  redis.call('PEXPIRE', pendingKey, ${PENDING_TTL_MS})`);

/** A pending run left without running (canceled, or its reservation given back): its workspace's count goes down. */
export const UNCOUNT_PENDING = batchScript("nagentUncountPending", { shared: [], keys: ["pendingKey"], args: [] }, DECREMENT_PENDING, `
  decrementPending(pendingKey)`);

const SCRIPTS = [ADMIT, RELEASE, COUNT_PENDING, UNCOUNT_PENDING];

type Command = (numberOfKeys: number, ...keysThenArgs: (string | number)[]) => Promise<unknown[]>;

/** Defines the scripts as commands of this connection (once per connection; ioredis loads them on first use). */
export function defineScripts(redis: Redis): void {
  for (const script of SCRIPTS) {
    if (!(script.command in redis)) redis.defineCommand(script.command, { lua: script.lua });
  }
}

/**
 * Runs a script (defined by `defineScripts`) for a batch of runs: KEYS (each distinct key once) and ARGV (the shared
 * values, then per run its keys' places in KEYS and its values) in the order of its layout's names.
 */
export function runScript<S extends string, K extends string, A extends string>(
  redis: Redis, script: BatchScript<S, K, A>, shared: Readonly<Record<S, number>>, runs: readonly Readonly<Record<K | A, string>>[],
): Promise<unknown[]> {
  const keys: string[] = [];
  const places = new Map<string, number>();
  const args: (string | number)[] = script.shared.map((name) => shared[name]);
  for (const run of runs) {
    for (const name of script.keys) {
      const key = run[name];
      let place = places.get(key);
      if (place === undefined) places.set(key, (place = keys.push(key)));
      args.push(place);
    }
    for (const name of script.args) args.push(run[name]);
  }
  return (redis as unknown as Record<string, Command>)[script.command]!(keys.length, ...keys, ...args);
}
