/**
 * A `TxnBackend` over the network to ONE standalone store: every key lives in the store's single
 * region, and the store serves timestamps itself (its `Tso` RPC).
 *
 * Only this backend assumes one region. A cluster backend implements the same interface with a
 * region cache: `groupByRegion` splits keys by region, each call goes to the region's leader with
 * its `context`, `KvResolveLock` is routed by `regionKey`, and timestamps come from the scheduler.
 */
import { Effect } from "effect"
import type { StoreConnection } from "../rpc/storeConnection.js"
import type { ClientError } from "./errors.js"
import { oneRegion, type TxnBackend } from "./txnBackend.js"

export const txnRpcBackend = (conn: StoreConnection): TxnBackend<ClientError> => ({
  // one timestamp per call; `count` would reserve a batch, which a transaction never needs
  tso: Effect.map(
    conn.call("Tso", (c) => c.Tso({ count: 1 })),
    (r) => r.timestamp
  ),
  groupByRegion: oneRegion,
  KvGet: (req) => conn.call("KvGet", (c) => c.KvGet(req)),
  KvScan: (req) => conn.call("KvScan", (c) => c.KvScan(req)),
  KvPrewrite: (req) => conn.call("KvPrewrite", (c) => c.KvPrewrite(req)),
  KvCommit: (req) => conn.call("KvCommit", (c) => c.KvCommit(req)),
  KvCheckTxnStatus: (req) => conn.call("KvCheckTxnStatus", (c) => c.KvCheckTxnStatus(req)),
  KvBatchRollback: (req) => conn.call("KvBatchRollback", (c) => c.KvBatchRollback(req)),
  // the store's one region holds every lock, so `regionKey` has nothing to choose between
  KvResolveLock: (req) => conn.call("KvResolveLock", (c) => c.KvResolveLock(req))
})
