/**
 * What the `TinyKvClient` service offers and takes, apart from the service tag: the standalone and
 * the cluster clients build this shape, and the tag's module picks one of them.
 */
import type { Duration, Effect } from "effect"
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
  /** At most this many pairs (default 100). */
  readonly limit?: number | undefined
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

/** A cluster, found through its scheduler at `scheduler` (`HOST:PORT`); requests follow region leaders. */
export interface ClusterOptions {
  readonly scheduler: string
  /** Deadline of each RPC attempt (default 2 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Deadline of a whole operation, retries included (default 10 s); a scan has one per page. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Connect with mutual TLS: the cluster's CA, this client's certificate and key (PEM files; reloaded when they change). */
  readonly tls?: TlsOptions | undefined
}
