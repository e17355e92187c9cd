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

export interface TxnBackend {
  /** A fresh timestamp, larger than every timestamp handed out before. */
  readonly tso: Effect.Effect<Timestamp, KvError>
  /** Partitions `keys` by region, keeping their order within a group; a standalone store has one group. */
  readonly groupByRegion: (
    keys: ReadonlyArray<Uint8Array>
  ) => Effect.Effect<ReadonlyArray<ReadonlyArray<Uint8Array>>, KvError>
  readonly KvGet: (req: GetRequest) => Effect.Effect<GetResponse, KvError>
  readonly KvScan: (req: ScanRequest) => Effect.Effect<ScanResponse, KvError>
  readonly KvPrewrite: (req: PrewriteRequest) => Effect.Effect<PrewriteResponse, KvError>
  readonly KvCommit: (req: CommitRequest) => Effect.Effect<CommitResponse, KvError>
  readonly KvCheckTxnStatus: (req: CheckTxnStatusRequest) => Effect.Effect<CheckTxnStatusResponse, KvError>
  readonly KvBatchRollback: (req: BatchRollbackRequest) => Effect.Effect<BatchRollbackResponse, KvError>
  readonly KvResolveLock: (
    req: ResolveLockRequest,
    regionKey: Uint8Array
  ) => Effect.Effect<ResolveLockResponse, KvError>
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
