/**
 * What the `TinyKvClient` service offers and takes, apart from the service tag: the standalone and
 * the cluster clients build this shape, and the tag's module picks one of them.
 */
import type { Duration, Effect, Stream } from "effect"
import type { TlsOptions } from "../rpc/tlsCredentials.js"
import type { Bytesish } from "./bytes.js"
import type { ClientError } from "./errors.js"
import type { Transaction, TransactionOptions, TransactOptions, TxnError } from "./transaction.js"

export interface CfOption {
  /** Column family: `default` (the default), `lock` or `write`. */
  readonly cf?: string | undefined
}

export interface ScanOptions extends CfOption {
  /** Exclusive upper bound; absent = to the end of the key space. */
  readonly end?: Bytesish | undefined
  /** At most this many pairs (default 100 for `rawScan`; no limit for the streams and iterables). */
  readonly limit?: number | undefined
  /** Only the keys: every value comes back empty (less to send). */
  readonly keyOnly?: boolean | undefined
}

export interface RangeOptions extends CfOption {
  /** Exclusive upper bound; absent = to the end of the key space. */
  readonly end?: Bytesish | undefined
}

/** A pair to write. */
export interface KvInput {
  readonly key: Bytesish
  readonly value: Bytesish
}

export interface KvPair {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** The raw (non-transactional) calls. */
export interface RawApi {
  /** The value, or `undefined` when the key does not exist. */
  readonly rawGet: (key: Bytesish, options?: CfOption) => Effect.Effect<Uint8Array | undefined, ClientError>
  /** Writes durably; succeeds once the write is committed. */
  readonly rawPut: (key: Bytesish, value: Bytesish, options?: CfOption) => Effect.Effect<void, ClientError>
  /** Deletes; deleting an absent key succeeds. */
  readonly rawDelete: (key: Bytesish, options?: CfOption) => Effect.Effect<void, ClientError>
  /** Pairs with `start <= key < end` in key order, at most `limit`. */
  readonly rawScan: (start: Bytesish, options?: ScanOptions) => Effect.Effect<ReadonlyArray<KvPair>, ClientError>
  /**
   * Pairs with `start <= key < end` in key order, fetched page by page (region after region) as the
   * stream is pulled; no limit unless `limit` is given.
   */
  readonly rawScanStream: (start: Bytesish, options?: ScanOptions) => Stream.Stream<KvPair, ClientError>
  /** The pairs found among `keys`, in the order asked (absent keys are left out). */
  readonly rawBatchGet: (
    keys: ReadonlyArray<Bytesish>,
    options?: CfOption
  ) => Effect.Effect<ReadonlyArray<KvPair>, ClientError>
  /**
   * Writes every pair durably: one atomic write per region (and per chunk of a large batch), so on
   * failure some regions' pairs may be written and others not.
   */
  readonly rawBatchPut: (pairs: ReadonlyArray<KvInput>, options?: CfOption) => Effect.Effect<void, ClientError>
  /** Deletes every key (absent keys included), one atomic write per region, like `rawBatchPut`. */
  readonly rawBatchDelete: (keys: ReadonlyArray<Bytesish>, options?: CfOption) => Effect.Effect<void, ClientError>
  /**
   * Deletes every key with `start <= key < end` (absent `end`: to the end of the key space), region
   * by region; the number of keys deleted. Not atomic: a key written into the range meanwhile may stay.
   */
  readonly rawDeleteRange: (start: Bytesish, options?: RangeOptions) => Effect.Effect<number, ClientError>
}

/** The `TinyKvClient` service. */
export interface TinyKvClientService extends RawApi {
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

/** One standalone store at `store` (`HOST:PORT`). */
export interface StandaloneOptions {
  readonly store: string
  /** Deadline of each call (default 10 s). */
  readonly timeout?: Duration.DurationInput
  /** Connect with mutual TLS: the cluster's CA, this client's certificate and key (PEM files; reloaded when they change). */
  readonly tls?: TlsOptions | undefined
}

/**
 * A cluster, found through its scheduler at `scheduler` (`HOST:PORT`); requests follow region leaders.
 * Several addresses (an array, or one string separated by commas) are tried in turn: when the one in
 * use stops answering, the client fails over to the next.
 */
export interface ClusterOptions {
  readonly scheduler: string | ReadonlyArray<string>
  /** Deadline of each RPC attempt (default 2 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Deadline of a whole operation, retries included (default 10 s); a scan has one per page. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Connect with mutual TLS: the cluster's CA, this client's certificate and key (PEM files; reloaded when they change). */
  readonly tls?: TlsOptions | undefined
}
