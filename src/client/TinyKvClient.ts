/**
 * TinyKvClient: the typed client as an Effect service.
 *
 * `TinyKvClient.layer({ store })` talks to one standalone store. The interface is region-agnostic
 * on purpose: the cluster layer (region cache, leader routing, retries) provides the same service.
 * Keys and values are bytes; strings are accepted and encoded as UTF-8.
 *
 * `begin`/`transact` run Percolator transactions (snapshot isolation, two-phase commit; see
 * docs/TRANSACTIONS.md) over a `TxnBackend` the layer builds for its store(s).
 */
import { Context, type Duration, Effect, Layer } from "effect"
import { utf8 } from "../protocol/bytes.js"
import { MAX_SCAN_LIMIT, SCAN_BYTE_BUDGET } from "../protocol/limits.js"
import type { KvError } from "../protocol/errorpb.js"
import type { RequestTimeout, StoreUnavailable } from "./errors.js"
import { makeClusterClient } from "./cluster/clusterClient.js"
import { connectStore } from "./storeConnection.js"
import {
  begin,
  type Transaction,
  type TransactionOptions,
  type TransactOptions,
  type TxnError,
  transact
} from "./transaction.js"
import { txnRpcBackend } from "./txnRpcBackend.js"

export type Bytesish = Uint8Array | string
export const toBytes = (b: Bytesish): Uint8Array => (typeof b === "string" ? utf8(b) : b)

export type ClientError = KvError | StoreUnavailable | RequestTimeout

export interface CfOption {
  /** Column family: `default` (the default), `lock` or `write`. */
  readonly cf?: string | undefined
}

export interface ScanOptions extends CfOption {
  /** Exclusive upper bound; absent = to the end of the key space. */
  readonly end?: Bytesish | undefined
  /** At most this many pairs (default 100). */
  readonly limit?: number | undefined
}

export interface KvPair {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

export class TinyKvClient extends Context.Tag("tinykv/TinyKvClient")<
  TinyKvClient,
  {
    /** The value, or `undefined` when the key does not exist. */
    readonly rawGet: (key: Bytesish, options?: CfOption) => Effect.Effect<Uint8Array | undefined, ClientError>
    /** Writes durably; succeeds once the write is committed. */
    readonly rawPut: (key: Bytesish, value: Bytesish, options?: CfOption) => Effect.Effect<void, ClientError>
    /** Deletes; deleting an absent key succeeds. */
    readonly rawDelete: (key: Bytesish, options?: CfOption) => Effect.Effect<void, ClientError>
    /** Pairs with `start <= key < end` in key order, at most `limit`. */
    readonly rawScan: (start: Bytesish, options?: ScanOptions) => Effect.Effect<ReadonlyArray<KvPair>, ClientError>
    /** Starts a transaction at a fresh timestamp; commit or roll it back (see `Transaction`). */
    readonly begin: (options?: TransactionOptions) => Effect.Effect<Transaction<ClientError>, ClientError>
    /**
     * Runs `body` in a transaction and commits it, starting over (new timestamp, jittered backoff)
     * on `WriteConflict`, `KeyIsLocked` or `TxnAborted`, up to `retries` times (default 10). Any
     * other failure rolls back and is returned as is. `body` may run more than once, and must not
     * commit or roll back `txn` itself (`transact` commits after it).
     */
    readonly transact: <A, E, R>(
      body: (txn: Transaction<ClientError>) => Effect.Effect<A, E, R>,
      options?: TransactOptions
    ) => Effect.Effect<A, E | TxnError<ClientError>, R>
  }
>() {
  /** A client for one standalone store at `store` (`HOST:PORT`). */
  static layer(options: StandaloneOptions | ClusterOptions): Layer.Layer<TinyKvClient, StoreUnavailable> {
    return "store" in options
      ? Layer.scoped(TinyKvClient, makeStandalone(options))
      : Layer.scoped(TinyKvClient, makeClusterClient(options))
  }
}

/** One standalone store at `store` (`HOST:PORT`). */
export interface StandaloneOptions {
  readonly store: string
  /** Deadline of each call (default 10 s). */
  readonly timeout?: Duration.DurationInput
}

/** A cluster, found through its scheduler at `scheduler` (`HOST:PORT`); requests follow region leaders. */
export interface ClusterOptions {
  readonly scheduler: string
  /** Deadline of each RPC attempt (default 2 s). */
  readonly timeout?: Duration.DurationInput
  /** Deadline of a whole operation, retries included (default 10 s). */
  readonly deadline?: Duration.DurationInput
}

const makeStandalone = (options: StandaloneOptions) =>
  Effect.gen(function* () {
    const conn = yield* connectStore(options.store, options.timeout ? { timeout: options.timeout } : {})
    const cfOf = (o?: CfOption) => o?.cf ?? "default"
    const backend = txnRpcBackend(conn)
    return TinyKvClient.of({
      rawGet: (key, o) =>
        conn
          .call("RawGet", (c) => c.RawGet({ key: toBytes(key), cf: cfOf(o) }))
          .pipe(Effect.map((r) => (r.notFound ? undefined : (r.value ?? new Uint8Array())))),
      rawPut: (key, value, o) =>
        conn.call("RawPut", (c) => c.RawPut({ key: toBytes(key), value: toBytes(value), cf: cfOf(o) })),
      rawDelete: (key, o) => conn.call("RawDelete", (c) => c.RawDelete({ key: toBytes(key), cf: cfOf(o) })),
      rawScan: (start, o) =>
        Effect.gen(function* () {
          // The server caps a page by count and bytes; keep asking until `limit` pairs or the range ends.
          const limit = o?.limit ?? 100
          const end = o?.end === undefined ? undefined : toBytes(o.end)
          const out: Array<KvPair> = []
          let from = toBytes(start)
          while (out.length < limit) {
            const want = Math.min(limit - out.length, MAX_SCAN_LIMIT)
            const page = yield* conn.call("RawScan", (c) =>
              c.RawScan({ startKey: from, limit: want, cf: cfOf(o), ...(end ? { endKey: end } : {}) })
            )
            let bytes = 0
            for (const p of page) {
              out.push({ key: p.key, value: p.value })
              bytes += p.key.length + p.value.length
            }
            // A short page means the range ended, unless the server stopped at its byte budget.
            if (page.length === 0 || (page.length < want && bytes < SCAN_BYTE_BUDGET)) break
            const last = page[page.length - 1]!.key
            // next page starts just after the last key: append a zero byte
            from = new Uint8Array(last.length + 1)
            from.set(last)
          }
          return out
        }),
      begin: (o) => begin(backend, o),
      transact: (body, o) => transact(backend, body, o)
    })
  })
