/**
 * A `TxnBackend` over a cluster: the transaction's requests routed by a `RegionRouter`.
 *
 * `groupByRegion` splits keys by the regions cached (asking the scheduler on a miss). A request
 * naming several keys is sent to the region of its first key; if its keys no longer lie in one
 * region (a split since they were grouped), it is regrouped and sent as one request per region,
 * the answers merged. `KvScan` walks regions in key order; `KvResolveLock` goes to the region
 * holding `regionKey`. Timestamps come from the scheduler's TSO.
 */
import { Effect } from "effect"
import type { Timestamp } from "../../protocol/ids.js"
import type { KeyError, ScanResponse } from "../../protocol/kvrpc.js"
import type { ClientError } from "../errors.js"
import { scanRange } from "../scanPages.js"
import { contextField } from "../send.js"
import type { TxnBackend } from "../txnBackend.js"
import { groupBy, perRegion } from "./perRegion.js"
import { type RegionCall, type RegionRouter, sendToKey } from "./regionRouter.js"

/** A request naming `keys`, answered with at most one key error: one request per region, the first error kept. */
const perRegionKeys = <R extends { readonly error?: KeyError | undefined }>(
  router: RegionRouter,
  method: string,
  keys: ReadonlyArray<Uint8Array>,
  send: (keys: ReadonlyArray<Uint8Array>) => RegionCall<R>
): Effect.Effect<R, ClientError> =>
  keys.length === 0
    ? // no keys: nothing to do, no error to report
      Effect.succeed({} as R)
    : perRegion(
        router,
        method,
        keys,
        (k) => k,
        send,
        (answers) => answers.find((a) => a.error !== undefined) ?? answers[0]!
      )

export const makeClusterTxnBackend = (
  router: RegionRouter,
  tso: Effect.Effect<Timestamp, ClientError>
): TxnBackend<ClientError> => ({
  tso,
  groupByRegion: (keys) => Effect.flatMap(router.deadline, (deadlineAt) => groupBy(router, keys, (k) => k, deadlineAt)),
  KvGet: (req) => router.request(req.key, "KvGet", (rpc, context) => rpc.KvGet({ ...req, context })),
  KvScan: (req) =>
    Effect.map(
      scanRange(
        sendToKey(router),
        "KvScan",
        { start: req.startKey, end: undefined, limit: req.limit },
        (from, limit) => (rpc, context) =>
          Effect.map(rpc.KvScan({ ...req, ...contextField(context), startKey: from, limit }), (r) => r.pairs)
      ),
      (pairs): ScanResponse => ({ pairs })
    ),
  KvPrewrite: (req) =>
    req.mutations.length === 0
      ? Effect.succeed({ errors: [] })
      : perRegion(
          router,
          "KvPrewrite",
          req.mutations,
          (m) => m.key,
          (mutations) => (rpc, context) => rpc.KvPrewrite({ ...req, context, mutations }),
          (answers) => ({ errors: answers.flatMap((a) => a.errors) })
        ),
  KvCommit: (req) =>
    perRegionKeys(router, "KvCommit", req.keys, (keys) => (rpc, context) => rpc.KvCommit({ ...req, context, keys })),
  KvCheckTxnStatus: (req) =>
    router.request(req.primaryKey, "KvCheckTxnStatus", (rpc, context) => rpc.KvCheckTxnStatus({ ...req, context })),
  KvBatchRollback: (req) =>
    perRegionKeys(
      router,
      "KvBatchRollback",
      req.keys,
      (keys) => (rpc, context) => rpc.KvBatchRollback({ ...req, context, keys })
    ),
  KvResolveLock: (req, regionKey) =>
    router.request(regionKey, "KvResolveLock", (rpc, context) => rpc.KvResolveLock({ ...req, context }))
})
