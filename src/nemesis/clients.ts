/**
 * The nemesis's clients: fibers that each own a real cluster client (`TinyKvClient` over TCP, through the
 * scheduler) and issue raw puts, deletes, gets and scans until told to stop, every one recorded in one
 * history for the linearizability checker, with the wall-clock time of every success (the availability
 * figures come from the gaps between successes).
 *
 * Keys come in groups: every `groupMs` the clients move on to a fresh group of `keysPerGroup` keys, as
 * Jepsen's independent keys do. Each key's history (checked on its own) stays short, so the checker's
 * search stays tractable over a run of many minutes, while within a group the clients contend. Every put
 * writes a value no other put writes, so a read names the write it saw. A failed write is indefinite; a
 * failed read tells nothing and is dropped.
 */
import { Clock, Effect, Ref, Schedule } from "effect"
import { TinyKvClient } from "../client/TinyKvClient.js"
import { fromUtf8 } from "../protocol/bytes.js"
import type { HistoryRecorder } from "../testing/linearizability/history.js"
import type { KvInput, KvOutput } from "../testing/linearizability/kvModel.js"
import type { SimRandom } from "../testing/sim/random.js"

export interface ClientOptions {
  readonly scheduler: string
  readonly clients: number
  readonly groupMs: number
  readonly keysPerGroup: number
  /** A client pauses up to this long between operations. */
  readonly thinkMs: number
}

export interface ClientStats {
  /** Wall-clock times (ms) at which an operation succeeded, in completion order. */
  readonly successes: Array<number>
  /** Every key any operation named (the final reads cover them all). */
  readonly keys: Set<string>
  readonly byKind: Record<"put" | "delete" | "get" | "scan", { ok: number; failed: number }>
  /** Every operation with its wall-clock start and end (ms), to see what was in flight during a gap. */
  readonly timeline: Array<TimedOp>
}

export interface TimedOp {
  readonly client: number
  readonly kind: "put" | "delete" | "get" | "scan"
  readonly start: number
  readonly end: number
  readonly ok: boolean
}

export const newClientStats = (): ClientStats => ({
  successes: [],
  keys: new Set(),
  byKind: {
    put: { ok: 0, failed: 0 },
    delete: { ok: 0, failed: 0 },
    get: { ok: 0, failed: 0 },
    scan: { ok: 0, failed: 0 }
  },
  timeline: []
})

type History = HistoryRecorder<KvInput, KvOutput>

const group = (n: number) => `g${String(n).padStart(5, "0")}`

/** One operation, recorded; `true` when it succeeded. */
const operation = (
  kv: TinyKvClient["Type"],
  history: History,
  stats: ClientStats,
  client: number,
  n: number,
  groupIndex: number,
  random: SimRandom,
  options: ClientOptions,
  start: number
): Effect.Effect<void> => {
  const key = `${group(groupIndex)}.k${random.int(options.keysPerGroup)}`
  stats.keys.add(key)
  const roll = random.next()
  const succeeded = (kind: keyof ClientStats["byKind"]) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        stats.byKind[kind].ok++
        stats.successes.push(now)
        stats.timeline.push({ client, kind, start, end: now, ok: true })
      })
    )
  const failed = (kind: keyof ClientStats["byKind"]) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        stats.byKind[kind].failed++
        stats.timeline.push({ client, kind, start, end: now, ok: false })
      })
    )
  if (roll < 0.5) {
    const kind = roll < 0.4 ? "put" : "delete"
    const value = `c${client}.${n}`
    const id = history.invoke(client, kind === "put" ? { kind, key, value } : { kind, key })
    return (kind === "put" ? kv.rawPut(key, value) : kv.rawDelete(key)).pipe(
      Effect.matchEffect({
        onSuccess: () =>
          Effect.zipRight(
            Effect.sync(() => history.ok(id, { kind: "done" })),
            succeeded(kind)
          ),
        onFailure: () =>
          Effect.zipRight(
            Effect.sync(() => history.indefinite(id)),
            failed(kind)
          )
      })
    )
  }
  if (roll < 0.9) {
    const id = history.invoke(client, { kind: "get", key })
    return kv.rawGet(key).pipe(
      Effect.matchEffect({
        onSuccess: (v) =>
          Effect.zipRight(
            Effect.sync(() => history.ok(id, { kind: "value", value: v === undefined ? undefined : fromUtf8(v) })),
            succeeded("get")
          ),
        onFailure: () =>
          Effect.zipRight(
            Effect.sync(() => history.failed(id)),
            failed("get")
          )
      })
    )
  }
  const from = `${group(groupIndex)}.`
  const to = `${group(groupIndex)}/`
  const limit = 1 + random.int(options.keysPerGroup)
  const id = history.invoke(client, { kind: "scan", start: from, end: to, limit })
  return kv.rawScan(from, { end: to, limit }).pipe(
    Effect.matchEffect({
      onSuccess: (pairs) =>
        Effect.zipRight(
          Effect.sync(() =>
            history.ok(id, { kind: "pairs", pairs: pairs.map((p) => [fromUtf8(p.key), fromUtf8(p.value)] as const) })
          ),
          succeeded("scan")
        ),
      onFailure: () =>
        Effect.zipRight(
          Effect.sync(() => history.failed(id)),
          failed("scan")
        )
    })
  )
}

const clientLayer = (scheduler: string) => TinyKvClient.layer({ scheduler, timeout: "1 second", deadline: "5 seconds" })

/** Runs the clients until `stop` holds `true`; each finishes the operation it is in. */
export const runClients = (
  history: History,
  stats: ClientStats,
  random: SimRandom,
  options: ClientOptions,
  stop: Ref.Ref<boolean>
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    yield* Effect.forEach(
      Array.from({ length: options.clients }, (_, c) => c),
      (client) => {
        const own = random.fork(client + 1)
        const loop = (kv: TinyKvClient["Type"], n: number): Effect.Effect<void> =>
          Effect.gen(function* () {
            if (yield* Ref.get(stop)) return
            yield* Effect.sleep(`${own.int(options.thinkMs + 1)} millis`)
            const now = yield* Clock.currentTimeMillis
            yield* operation(
              kv,
              history,
              stats,
              client,
              n,
              Math.floor((now - started) / options.groupMs),
              own,
              options,
              now
            )
            yield* loop(kv, n + 1)
          })
        return Effect.flatMap(TinyKvClient, (kv) => loop(kv, 0)).pipe(
          Effect.provide(clientLayer(options.scheduler)),
          // a client that cannot even be built (no scheduler) tries again
          Effect.retry({ schedule: Schedule.spaced("200 millis"), while: () => Effect.map(Ref.get(stop), (s) => !s) }),
          Effect.ignore
        )
      },
      { concurrency: "unbounded", discard: true }
    )
  })

/**
 * After the faults: one read of every key used, so an acknowledged write that was lost shows as a violation.
 * The reads share one deadline: a cluster that does not recover is reported (as unread keys), not waited on.
 */
export const finalReads = (
  history: History,
  stats: ClientStats,
  scheduler: string,
  client: number
): Effect.Effect<number> =>
  Effect.flatMap(TinyKvClient, (kv) =>
    Effect.reduce([...stats.keys].sort(), 0, (unread, key) => {
      const id = history.invoke(client, { kind: "get", key })
      return kv.rawGet(key).pipe(
        Effect.matchEffect({
          onSuccess: (v) =>
            Effect.sync(() => {
              history.ok(id, { kind: "value", value: v === undefined ? undefined : fromUtf8(v) })
              return unread
            }),
          onFailure: () =>
            Effect.sync(() => {
              history.failed(id)
              return unread + 1
            })
        })
      )
    })
  ).pipe(
    Effect.provide(TinyKvClient.layer({ scheduler, timeout: "2 seconds", deadline: "10 seconds" })),
    Effect.timeout("60 seconds"),
    Effect.orElseSucceed(() => stats.keys.size)
  )
