/**
 * What one routed attempt can fail with, how the router reacts to each failure, and what the caller
 * finally sees: every failure becomes a `ClientError` (the scheduler's failures as
 * `StoreUnavailable` naming the scheduler), so the cluster client keeps the standalone client's
 * error type.
 */
import { Data } from "effect"
import { toHex } from "../../protocol/bytes.js"
import type { KvError } from "../../protocol/errorpb.js"
import type { SchedulerClientError } from "../../services/SchedulerClient.js"
import { RequestTimeout, StoreUnavailable } from "../../rpc/errors.js"
import type { ClientError } from "../errors.js"
import type { NoRegion } from "./regionCache.js"
import type { StoreRemoved } from "./storeAddresses.js"

/**
 * A multi-key request whose keys no longer lie in one region (a split happened since they were
 * grouped): the caller regroups and sends one request per region. Never retried as is.
 */
export class KeysSpanRegions extends Data.TaggedError("KeysSpanRegions")<{}> {}

export type AttemptError =
  | KvError
  | StoreUnavailable
  | RequestTimeout
  | SchedulerClientError
  | NoRegion
  | StoreRemoved
  | KeysSpanRegions

/**
 * How to go on after a failed attempt: `fail` at once (the request itself is wrong, or the caller
 * must act), retry `now` (the cache was just corrected, e.g. a leader hint), or retry after a `backoff`.
 */
export type Verdict = "fail" | "now" | "backoff"

const schedulerFailure = (scheduler: string, message: string) =>
  new StoreUnavailable({ address: scheduler, message: `scheduler: ${message}` })

/** The error a caller sees for `e`; `scheduler` names the scheduler's address in messages. */
export const toClientError = (e: Exclude<AttemptError, KeysSpanRegions>, scheduler: string): ClientError => {
  switch (e._tag) {
    case "SchedulerError":
      return schedulerFailure(scheduler, `${e.type}: ${e.message}`)
    case "SchedulerUnavailable":
      return schedulerFailure(scheduler, e.message)
    case "NoRegion":
      return schedulerFailure(
        scheduler,
        `no region is known to hold key 0x${toHex(e.key)} (is the cluster bootstrapped?)`
      )
    case "StoreRemoved":
      return new StoreUnavailable({ address: `store ${e.storeId}`, message: "the store was removed from the cluster" })
    default:
      return e
  }
}

/** The deadline passed before any attempt finished, while waiting on the store at `address`. */
export const deadlineError = (address: string, method: string, deadlineMs: number): RequestTimeout =>
  new RequestTimeout({ address, method, timeoutMs: deadlineMs })
