/**
 * When the router may send a request again after an attempt failed: etcd clientv3's rule. A request
 * that may be applied twice is retried after any failure; one that may not is retried only when the
 * failure proves the store never proposed it, and otherwise ends the call as `Indeterminate`.
 *
 * Safe to send again:
 * - reads (`RawGet`, `RawScan`, `RawBatchGet`, `KvGet`, `KvScan`) change nothing;
 * - Percolator's writes, because every record they leave is named by the transaction's `startTs` (and
 *   its `commitTs`), not by when it arrives (`transaction/commands.ts`). A second `KvPrewrite` finds
 *   its own lock and writes the same lock and value again, or, after the transaction was rolled back,
 *   finds the rollback record (a write at `startTs`) and reports a conflict. A second `KvCommit` finds
 *   the key committed and does nothing, or finds the rollback and reports it. `KvBatchRollback` and
 *   `KvResolveLock` repeat the same decision for the same `startTs`; `KvCheckTxnStatus` records at most
 *   the rollback its first copy recorded. Reads at a timestamp see the same versions whichever copy came
 *   last.
 *
 * Not safe: raw writes (`RawPut`, `RawDelete`, `RawBatchPut`, `RawBatchDelete`, `RawDeleteRange`). A
 * raw write has no version: a copy applied late lands after whatever other clients wrote in between
 * and undoes it (a put seen, overwritten, then seen again). Any method not named here counts as unsafe.
 */
import type { AttemptError } from "./routeErrors.js"

const resendable: ReadonlySet<string> = new Set([
  "locate",
  "RawGet",
  "RawScan",
  "RawBatchGet",
  "KvGet",
  "KvScan",
  "KvPrewrite",
  "KvCommit",
  "KvCheckTxnStatus",
  "KvBatchRollback",
  "KvResolveLock"
])

/** True when `method` may be applied twice without harm, so any failed attempt may be sent again. */
export const isIdempotent = (method: string): boolean => resendable.has(method)

/**
 * Why an attempt that failed with `error` may have taken effect, or `undefined` when the failure proves
 * it did not. `sent`: the request was handed to a connection (a failure before that, such as a store
 * address not resolved or a connection not opened, proves nothing was sent).
 *
 * Proofs: the store's region errors are given before proposing (`NotLeader`, `EpochNotMatch`,
 * `RegionNotFound`, `KeyNotInRegion`, `StoreNotMatch`, `ServerIsBusy`, `StaleCommand`) or when the
 * command can never apply (an `EpochNotMatch` or `StaleCommand` from apply), unless they carry
 * `outcomeUnknown`; `InvalidArgument` is checked before anything is written; a request the connection
 * refused to send (`StoreUnavailable` with `unsent`). So a raw put or delete that fails with anything
 * but `Indeterminate` did not take effect; a batch or a range delete may have applied the parts it sent
 * to other regions (or in earlier steps) before one part failed.
 */
export const unknownOutcome = (error: AttemptError, sent: boolean): string | undefined => {
  switch (error._tag) {
    case "RequestTimeout":
      return sent ? `no answer within ${error.timeoutMs} ms` : undefined
    case "StoreUnavailable":
      return sent && error.unsent !== true ? `the connection failed during the call: ${error.message}` : undefined
    case "StorageError":
      // the store's engine failed: a write may or may not have reached it
      return sent ? `StorageError: ${error.message}` : undefined
    case "RegionNotFound":
    case "StaleCommand":
    case "ServerIsBusy":
      return error.outcomeUnknown === true ? `${error._tag}: ${error.message}` : undefined
    default:
      return undefined
  }
}
