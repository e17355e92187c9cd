/**
 * The W1/W2/W3 workload shapes the team compares etcd and redis with (closed-loop clients, `key%08d` keys uniform over
 * 100,000, 128-byte values), a seeded key/value stream, and the closed-loop runner that measures
 * them. Any system with `put`/`get` can be driven; results are JSON-serialisable. On a terminal, a
 * progress bar on stderr follows each workload (`src/cli/progress.ts`).
 */
import { progressBar } from "../src/cli/progress.js"

export interface KvConn {
  readonly put: (key: string, value: Uint8Array) => Promise<void>
  readonly get: (key: string) => Promise<Uint8Array | undefined>
  readonly close: () => Promise<void>
}

export const WORKLOADS = {
  W1: { kind: "put", clients: 64, ops: 50_000, salt: 1 },
  W2: { kind: "get", clients: 64, ops: 100_000, salt: 2 },
  W3: { kind: "put", clients: 1, ops: 5_000, salt: 3 }
} as const
export type WorkloadId = keyof typeof WORKLOADS

const KEY_SPACE = 100_000
export const VALUE_SIZE = 128

/** mulberry32: tiny, seeded, good enough to spread keys. */
export const rng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const keyOf = (n: number) => `key${String(n).padStart(8, "0")}`

/** The `regions - 1` keys that cut the workloads' key space into `regions` ranges of equal size, in order. */
export const splitKeysFor = (regions: number): ReadonlyArray<string> =>
  Array.from({ length: Math.max(0, regions - 1) }, (_, i) => keyOf(Math.floor(((i + 1) * KEY_SPACE) / regions)))

export const putStream = (seed: number, salt: number, ops: number) => {
  const r = rng(seed * 7919 + salt)
  const keys = Array.from({ length: ops }, () => keyOf(Math.floor(r() * KEY_SPACE)))
  const values = new Uint8Array(ops * VALUE_SIZE)
  for (let i = 0; i < values.length; i++) values[i] = Math.floor(r() * 256)
  return { keys, value: (i: number) => values.subarray(i * VALUE_SIZE, (i + 1) * VALUE_SIZE) }
}

/**
 * Gets over the distinct keys W1 wrote, so every get should hit. `writtenOps` is how many puts W1 ran
 * (default its full size): the key stream is the same prefix for any count.
 */
export const getStream = (seed: number, salt: number, ops: number, writtenOps: number = WORKLOADS.W1.ops) => {
  const distinct = [...new Set(putStream(seed, WORKLOADS.W1.salt, writtenOps).keys)]
  const r = rng(seed * 7919 + salt)
  return { keys: Array.from({ length: ops }, () => distinct[Math.floor(r() * distinct.length)]!), distinct }
}

export interface WorkloadResult {
  readonly workload: WorkloadId
  readonly clients: number
  readonly ops: number
  readonly ok: number
  readonly errors: number
  readonly misses: number
  readonly opsPerSec: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  readonly firstError?: string
}

/** The `p`th percentile (0–100) of ascending `sorted`; 0 when empty. */
export const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

/** Rounded to three decimals (µs, for figures in ms). */
export const round = (x: number) => Math.round(x * 1000) / 1000

/** Runs one workload with `clients` closed loops over `conns` (one per client). */
export const runWorkload = async (
  id: WorkloadId,
  conns: ReadonlyArray<KvConn>,
  options: {
    readonly seed: number
    readonly ops?: number
    /** For W2: how many puts W1 ran before it (default W1's full size), so gets read written keys. */
    readonly writtenOps?: number
  }
): Promise<WorkloadResult> => {
  const w = WORKLOADS[id]
  const ops = options.ops ?? w.ops
  const clients = Math.min(w.clients, conns.length)
  const puts = w.kind === "put" ? putStream(options.seed, w.salt, ops) : undefined
  const gets = w.kind === "get" ? getStream(options.seed, w.salt, ops, options.writtenOps) : undefined
  const latencies = new Float64Array(ops)
  let next = 0
  let ok = 0
  let errors = 0
  let misses = 0
  let firstError: string | undefined
  const started = performance.now()
  const bar = progressBar({
    total: ops,
    format: `${id} {bar} {percentage}% | {value}/{total} ops | {rate} ops/s | ETA {eta_formatted}`,
    payload: { rate: 0 }
  })
  const loop = async (conn: KvConn) => {
    for (let i = next++; i < ops; i = next++) {
      const t0 = performance.now()
      try {
        if (puts) await conn.put(puts.keys[i]!, puts.value(i))
        else {
          const v = await conn.get(gets!.keys[i]!)
          if (v === undefined || v.length !== VALUE_SIZE) misses++
        }
        latencies[ok++] = performance.now() - t0
      } catch (e) {
        errors++
        firstError ??= JSON.stringify(e)
      }
      bar.update(ok + errors, { rate: Math.round(ok / Math.max((performance.now() - started) / 1000, 0.001)) })
    }
  }
  await Promise.all(conns.slice(0, clients).map(loop))
  bar.stop()
  const wall = (performance.now() - started) / 1000
  const sorted = latencies.subarray(0, ok).sort()
  return {
    workload: id,
    clients,
    ops,
    ok,
    errors,
    misses,
    opsPerSec: Math.round(ok / wall),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(percentile(sorted, 100))
    },
    ...(firstError ? { firstError } : {})
  }
}

/** Puts `keyOf(i)` = `valueAt(i)` for i below `count`, untimed, over all connections at once. */
export const putEach = async (
  conns: ReadonlyArray<KvConn>,
  count: number,
  keyOf: (i: number) => string,
  valueAt: (i: number) => Uint8Array
) => {
  let next = 0
  await Promise.all(
    conns.map(async (c) => {
      for (let i = next++; i < count; i = next++) await c.put(keyOf(i), valueAt(i))
    })
  )
}

/** Puts exactly W1's keys (untimed) so W2 can run on its own. */
export const preloadW1 = async (conns: ReadonlyArray<KvConn>, seed: number) => {
  const { keys, value } = putStream(seed, WORKLOADS.W1.salt, WORKLOADS.W1.ops)
  await putEach(conns, keys.length, (i) => keys[i]!, value)
}
