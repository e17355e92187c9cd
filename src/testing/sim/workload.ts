/**
 * The simulator's clients: fibers issuing random raw puts, gets, deletes and scans through the real
 * `TinyKvClient`, each recorded in one history for the linearizability checker.
 *
 * Every put writes a value no other put writes (`c<client>.<n>`), so a read names the write it saw and the
 * checker's verdict is sharp. Keys come from a small set, so clients contend. A write that fails is
 * recorded as indefinite: it may have been applied (`Indeterminate`: a timeout after the proposal) or not. A read that
 * fails tells nothing and is dropped.
 */
import { Effect, type Layer } from "effect"
import { fromUtf8 } from "../../protocol/bytes.js"
import { TinyKvClient } from "../../client/TinyKvClient.js"
import type { HistoryRecorder } from "../linearizability/history.js"
import type { KvInput, KvOutput } from "../linearizability/kvModel.js"
import type { SimRandom } from "./random.js"

export interface WorkloadOptions {
  readonly clients: number
  readonly opsPerClient: number
  readonly keys: number
  /** Each client thinks up to this long (virtual time) between operations, so faults land among them. */
  readonly thinkMs: number
  /**
   * A put's value is padded to at least this many bytes (0: none), so the raw keys outgrow a region and
   * split among themselves: writes then race splits, which the epoch check at apply must catch.
   */
  readonly valueBytes: number
}

export const keyName = (i: number): string => `k${i}`

/** A write's outcome: done, or indefinite when it failed (it may still have been applied). */
const recordWrite = <E>(history: HistoryRecorder<KvInput, KvOutput>, id: number, write: Effect.Effect<void, E>) =>
  write.pipe(
    Effect.matchEffect({
      onSuccess: () => Effect.sync(() => history.ok(id, { kind: "done" })),
      onFailure: () => Effect.sync(() => history.indefinite(id))
    })
  )

/** One client's operation, recorded. */
const operation = (
  kv: TinyKvClient["Type"],
  history: HistoryRecorder<KvInput, KvOutput>,
  client: number,
  n: number,
  random: SimRandom,
  keys: number,
  valueBytes: number
) => {
  const key = keyName(random.int(keys))
  const roll = random.next()
  if (roll < 0.45) {
    const value = `c${client}.${n}`.padEnd(valueBytes, ".")
    return recordWrite(history, history.invoke(client, { kind: "put", key, value }), kv.rawPut(key, value))
  }
  if (roll < 0.55) {
    return recordWrite(history, history.invoke(client, { kind: "delete", key }), kv.rawDelete(key))
  }
  if (roll < 0.9) {
    const id = history.invoke(client, { kind: "get", key })
    return kv.rawGet(key).pipe(
      Effect.matchEffect({
        onSuccess: (v) =>
          Effect.sync(() => history.ok(id, { kind: "value", value: v === undefined ? undefined : fromUtf8(v) })),
        onFailure: () => Effect.sync(() => history.failed(id))
      })
    )
  }
  const limit = 1 + random.int(keys)
  const id = history.invoke(client, { kind: "scan", start: "k", end: "l", limit })
  return kv.rawScan("k", { end: "l", limit }).pipe(
    Effect.matchEffect({
      onSuccess: (pairs) =>
        Effect.sync(() =>
          history.ok(id, {
            kind: "pairs",
            pairs: pairs.map((p) => [fromUtf8(p.key), fromUtf8(p.value)] as const)
          })
        ),
      onFailure: () => Effect.sync(() => history.failed(id))
    })
  )
}

/**
 * Runs every client to completion (each does its operations one after another). Each client fiber is
 * served by its own instance of `client`, with its own region cache, as separate processes would be: one
 * client may still talk to a deposed leader after another has found the new one.
 */
export const runClients = (
  history: HistoryRecorder<KvInput, KvOutput>,
  random: SimRandom,
  options: WorkloadOptions,
  client: Layer.Layer<TinyKvClient>
): Effect.Effect<void> =>
  Effect.forEach(
    Array.from({ length: options.clients }, (_, c) => c),
    (c) => {
      // each client draws from its own stream: the interleaving must not change what a client does
      const own = random.fork(c + 1)
      return Effect.flatMap(TinyKvClient, (kv) =>
        Effect.forEach(
          Array.from({ length: options.opsPerClient }, (_, n) => n),
          (n) =>
            Effect.zipRight(
              Effect.sleep(`${own.int(options.thinkMs + 1)} millis`),
              operation(kv, history, c, n, own, options.keys, options.valueBytes)
            ),
          { discard: true }
        )
      ).pipe(Effect.provide(client))
    },
    { concurrency: "unbounded", discard: true }
  )

/** After the faults: one read of every key, recorded, so a lost acknowledged write shows as a violation. */
export const finalReads = (
  history: HistoryRecorder<KvInput, KvOutput>,
  keys: number,
  client: number
): Effect.Effect<number, never, TinyKvClient> =>
  Effect.flatMap(TinyKvClient, (kv) =>
    Effect.reduce(
      Array.from({ length: keys }, (_, i) => keyName(i)),
      0,
      (failed, key) => {
        const id = history.invoke(client, { kind: "get", key })
        return kv.rawGet(key).pipe(
          Effect.matchEffect({
            onSuccess: (v) =>
              Effect.sync(() => {
                history.ok(id, { kind: "value", value: v === undefined ? undefined : fromUtf8(v) })
                return failed
              }),
            onFailure: () =>
              Effect.sync(() => {
                history.failed(id)
                return failed + 1
              })
          })
        )
      }
    )
  )
