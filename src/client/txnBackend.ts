/**
 * TxnBackend: what a client transaction needs from the cluster, independent of the network.
 *
 * Every request a `Transaction` sends concerns keys of ONE region (it groups keys with
 * `groupByRegion` first) and carries no `context`: routing, and filling `context` in, is the
 * backend's job. `KvScan` may cross regions: the backend continues region by region until `limit`
 * pairs or the end of the key space. `KvResolveLock` names no key, so it takes `regionKey`: any
 * key of the region whose locks to resolve (the key the client found locked).
 */
import { Effect } from "effect"
import type { KvError } from "../protocol/errorpb.js"
import type {
  BatchRollbackRequest,
  BatchRollbackResponse,
  CheckTxnStatusRequest,
  CheckTxnStatusResponse,
  CommitRequest,
  CommitResponse,
  GetRequest,
  GetResponse,
  PrewriteRequest,
  PrewriteResponse,
  ResolveLockRequest,
  ResolveLockResponse,
  ScanRequest,
  ScanResponse
} from "../protocol/kvrpc.js"
import type { Timestamp } from "../protocol/ids.js"
import type { TxnHandlers } from "../transaction/handlers.js"

/**
 * `E` is what the calls fail with: `KvError` in-process; a network backend adds its transport
 * errors (unreachable store, timeout), which then flow through the transaction unchanged.
 */
export interface TxnBackend<E = KvError> {
  /** A fresh timestamp, larger than every timestamp handed out before. */
  readonly tso: Effect.Effect<Timestamp, E>
  /** Partitions `keys` by region, keeping their order within a group; a standalone store has one group. */
  readonly groupByRegion: (
    keys: ReadonlyArray<Uint8Array>
  ) => Effect.Effect<ReadonlyArray<ReadonlyArray<Uint8Array>>, E>
  readonly KvGet: (req: GetRequest) => Effect.Effect<GetResponse, E>
  readonly KvScan: (req: ScanRequest) => Effect.Effect<ScanResponse, E>
  readonly KvPrewrite: (req: PrewriteRequest) => Effect.Effect<PrewriteResponse, E>
  readonly KvCommit: (req: CommitRequest) => Effect.Effect<CommitResponse, E>
  readonly KvCheckTxnStatus: (req: CheckTxnStatusRequest) => Effect.Effect<CheckTxnStatusResponse, E>
  readonly KvBatchRollback: (req: BatchRollbackRequest) => Effect.Effect<BatchRollbackResponse, E>
  readonly KvResolveLock: (req: ResolveLockRequest, regionKey: Uint8Array) => Effect.Effect<ResolveLockResponse, E>
}

/** A backend calling in-process handlers directly: one store holding every key (standalone). */
export const backendFromHandlers = (handlers: TxnHandlers, tso: Effect.Effect<Timestamp, KvError>): TxnBackend => ({
  tso,
  groupByRegion: (keys) => Effect.succeed(keys.length === 0 ? [] : [keys]),
  KvGet: handlers.KvGet,
  KvScan: handlers.KvScan,
  KvPrewrite: handlers.KvPrewrite,
  KvCommit: handlers.KvCommit,
  KvCheckTxnStatus: handlers.KvCheckTxnStatus,
  KvBatchRollback: handlers.KvBatchRollback,
  KvResolveLock: (req) => handlers.KvResolveLock(req)
})
