/**
 * A Promise facade over `TinyKvClient` for code that does not use Effect:
 *
 *   const kv = await connect({ store: "127.0.0.1:20160" })
 *   await kv.put("hello", "world")
 *   const v = await kv.getString("hello")   // "world"
 *   await kv.transact(async (txn) => {           // retried on conflicts
 *     const n = Number((await txn.getString("counter")) ?? "0")
 *     await txn.set("counter", String(n + 1))
 *   })
 *   await kv.close()                              // or: await using kv = await connect(…)
 *
 * Errors reject with the same tagged error objects the Effect API fails with (`e._tag`), each with a
 * `message` that says what happened.
 */
import { Cause, Effect, Layer, ManagedRuntime, Option, Stream } from "effect"
import { compareBytes, fromUtf8 } from "../protocol/bytes.js"
import { transactSchedule } from "./backoff.js"
import { type Bytesish, toBytes } from "./bytes.js"
import type { ClientError } from "./errors.js"
import { TinyKvClient } from "./TinyKvClient.js"
import type { Transaction, TransactionOptions, TransactOptions } from "./transaction.js"
import { isRetryable } from "./txnErrors.js"
import type {
  CfOption,
  ClusterOptions,
  KvInput,
  KvPair,
  RangeOptions,
  ScanOptions,
  StandaloneOptions
} from "./types.js"

/** `{ scheduler: "HOST:PORT" }` for a cluster, or `{ store: "HOST:PORT" }` for one standalone store. */
export type ConnectOptions = StandaloneOptions | ClusterOptions

export interface KvConnection {
  readonly get: (key: Bytesish, options?: { cf?: string }) => Promise<Uint8Array | undefined>
  readonly getString: (key: Bytesish, options?: { cf?: string }) => Promise<string | undefined>
  readonly put: (key: Bytesish, value: Bytesish, options?: { cf?: string }) => Promise<void>
  readonly delete: (key: Bytesish, options?: { cf?: string }) => Promise<void>
  readonly scan: (start: Bytesish, options?: ScanOptions) => Promise<ReadonlyArray<KvPair>>
  /**
   * The pairs from `start` (to `end`, or the end of the key space) in key order, fetched page by page,
   * region after region, as the loop asks: `for await (const { key, value } of kv.scanIterable("user/"))`.
   * No limit unless `limit` is given; breaking out of the loop stops the fetching.
   */
  readonly scanIterable: (start: Bytesish, options?: ScanOptions) => AsyncIterable<KvPair>
  /** The pairs found among `keys`, in the order asked (absent keys are left out). */
  readonly batchGet: (keys: ReadonlyArray<Bytesish>, options?: CfOption) => Promise<ReadonlyArray<KvPair>>
  /** Writes every pair durably (one atomic write per region). */
  readonly batchPut: (pairs: ReadonlyArray<KvInput>, options?: CfOption) => Promise<void>
  /** Deletes every key (one atomic write per region). */
  readonly batchDelete: (keys: ReadonlyArray<Bytesish>, options?: CfOption) => Promise<void>
  /** Deletes every key with `start <= key < end` (no `end`: to the end of the key space); how many were deleted. */
  readonly deleteRange: (start: Bytesish, options?: RangeOptions) => Promise<number>
  /** Starts a transaction (snapshot isolation); finish it with `commit()` or `rollback()`. */
  readonly begin: (options?: TransactionOptions) => Promise<KvTransaction>
  /**
   * Runs `body` in a transaction and commits it. On `WriteConflict`, `KeyIsLocked` or `TxnAborted`
   * (from the body's reads or from the commit) it rolls back and runs `body` again in a new
   * transaction, up to `retries` times (default 10): `body` must be safe to re-run. Anything else
   * `body` throws rolls back and is rethrown. If `body` commits or rolls back itself, that stands.
   */
  readonly transact: <A>(body: (txn: KvTransaction) => Promise<A>, options?: TransactOptions) => Promise<A>
  readonly close: () => Promise<void>
  /** `close`, for `await using kv = await connect(…)`. */
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

export interface TxnScanOptions {
  /** Exclusive upper bound; absent = to the end of the key space. */
  readonly end?: Bytesish | undefined
  /** At most this many pairs (default 100). */
  readonly limit?: number | undefined
}

/** A transaction of the Promise facade: reads see its snapshot plus its own buffered writes. */
export interface KvTransaction {
  /** The snapshot timestamp: reads see exactly what committed before it. */
  readonly startTs: bigint
  readonly get: (key: Bytesish) => Promise<Uint8Array | undefined>
  readonly getString: (key: Bytesish) => Promise<string | undefined>
  readonly scan: (start: Bytesish, options?: TxnScanOptions) => Promise<ReadonlyArray<KvPair>>
  /** Buffered until `commit`. */
  readonly set: (key: Bytesish, value: Bytesish) => Promise<void>
  readonly delete: (key: Bytesish) => Promise<void>
  /** Two-phase commit; the commit timestamp, or `undefined` when the transaction wrote nothing. */
  readonly commit: () => Promise<bigint | undefined>
  /** Discards the buffered writes. Idempotent. */
  readonly rollback: () => Promise<void>
}

/** Fails (rejects) when the store cannot be reached. */
export const connect = (options: ConnectOptions): Promise<KvConnection> => connectWith(TinyKvClient.layer(options))

/**
 * The Promise facade over any `TinyKvClient` layer — e.g. `TestCluster.clientLayer()` from `tinykv/testing`,
 * to run Promise-based code against an in-process cluster.
 */
export const connectWith = async (layer: Layer.Layer<TinyKvClient, unknown>): Promise<KvConnection> => {
  // NB: a Promise caller cannot give this runtime a tracer, so its spans would go nowhere: make none (the
  // connections then send the raw calls lean, `src/rpc/leanCalls.ts`)
  const runtime = ManagedRuntime.make(Layer.provideMerge(layer, Layer.setTracerEnabled(false)))
  const client = await runtime.runPromise(TinyKvClient).catch(async (e) => {
    await runtime.dispose()
    throw e
  })
  const runtimeOf = await runtime.runtime()
  const run = <A>(effect: Effect.Effect<A, unknown>) =>
    runtime.runPromiseExit(effect).then((exit) => {
      if (exit._tag === "Success") return exit.value
      // the first typed failure, even inside a composite cause (a failure plus a failed cleanup)
      const failure = Cause.failureOption(exit.cause)
      throw Option.isSome(failure) ? failure.value : new Error(`tinykv: ${String(exit.cause)}`)
    })
  return {
    get: (key, o) => run(client.rawGet(key, o)),
    getString: (key, o) => run(Effect.map(client.rawGet(key, o), (v) => (v === undefined ? undefined : fromUtf8(v)))),
    put: (key, value, o) => run(client.rawPut(key, value, o)),
    delete: (key, o) => run(client.rawDelete(key, o)),
    scan: (start, o) => run(client.rawScan(start, o)),
    // a failure rejects the loop's `next()` with the typed error itself, like every other method
    scanIterable: (start, o) => Stream.toAsyncIterableRuntime(client.rawScanStream(start, o), runtimeOf),
    batchGet: (keys, o) => run(client.rawBatchGet(keys, o)),
    batchPut: (pairs, o) => run(client.rawBatchPut(pairs, o)),
    batchDelete: (keys, o) => run(client.rawBatchDelete(keys, o)),
    deleteRange: (start, o) => run(client.rawDeleteRange(start, o)),
    begin: (o) => run(client.begin(o)).then((txn) => wrapTransaction(txn, run)),
    transact: <A>(body: (txn: KvTransaction) => Promise<A>, o: TransactOptions = {}): Promise<A> => {
      // one attempt fails with whatever `begin`, `body` or the commit threw, after rolling back
      const attempt = Effect.flatMap(client.begin(o), (t) => {
        const txn = wrapTransaction(t, run)
        return Effect.tryPromise({
          try: async () => {
            const result = await body(txn)
            if (txn.open()) await txn.commit()
            return result
          },
          catch: (e) => e
        }).pipe(Effect.tapError(() => Effect.promise(() => txn.rollback())))
      })
      return run(Effect.retry(attempt, { schedule: transactSchedule(o.retries ?? 10), while: isRetryable }))
    },
    close: () => runtime.dispose(),
    [Symbol.asyncDispose]: () => runtime.dispose()
  }
}

type Run = <A>(effect: Effect.Effect<A, unknown>) => Promise<A>

const wrapTransaction = (txn: Transaction<ClientError>, run: Run): KvTransaction & { open: () => boolean } => {
  // tracked here so `transact` does not commit again what its body already finished
  let open = true
  const get = (key: Bytesish) => run(Effect.map(txn.get(toBytes(key)), Option.getOrUndefined))
  return {
    startTs: txn.startTs,
    open: () => open,
    get,
    getString: (key) => get(key).then((v) => (v === undefined ? undefined : fromUtf8(v))),
    scan: (start, o) => {
      const end = o?.end === undefined ? undefined : toBytes(o.end)
      // the first `limit` keys >= start, ascending: the ones below `end` are exactly the answer
      return run(txn.scan(toBytes(start), o?.limit ?? 100)).then((pairs) =>
        end === undefined ? pairs : pairs.filter((p) => compareBytes(p.key, end) < 0)
      )
    },
    set: (key, value) => run(txn.set(toBytes(key), toBytes(value))),
    delete: (key) => run(txn.delete(toBytes(key))),
    commit: () => {
      open = false
      return run(Effect.map(txn.commit, Option.getOrUndefined))
    },
    rollback: () => {
      open = false
      return run(txn.rollback)
    }
  }
}
