/** Client-side errors that never cross the wire (the server's errors are the protocol's `KvError`). */
import { Data } from "effect"
import type { KvError } from "../protocol/errorpb.js"
import type { RequestTimeout, StoreUnavailable } from "../rpc/errors.js"

export { RequestTimeout, StoreUnavailable } from "../rpc/errors.js"

/**
 * A write that is not idempotent (a raw put, delete, batch or range delete) failed after the store may
 * have received it: it may have applied, may apply later, or may never apply. The client does not send
 * it again on its own, since a second copy applied after another client's write would undo that write.
 * `reason` says what ended the attempt (a timeout, a connection lost mid-call, an answer given after the
 * command was proposed). Read the keys back to learn the outcome, or write again if the value is still
 * wanted.
 */
export class Indeterminate extends Data.TaggedError("Indeterminate")<{
  /** The request, e.g. `RawPut`. */
  readonly method: string
  /** The store it was sent to. */
  readonly address: string
  /** Why the outcome is unknown, in words. */
  readonly reason: string
}> {
  override get message(): string {
    return `${this.method} to ${this.address}: outcome unknown (${this.reason}): the write may or may not have applied, and was not sent again`
  }
}

/**
 * What a client call can fail with: the store's answer, the connection's failure, or a write whose
 * outcome is unknown.
 */
export type ClientError = KvError | StoreUnavailable | RequestTimeout | Indeterminate

/**
 * A user-facing one-line description of any client or server error. Every error class of the client
 * carries its own readable `message` (Promise users see it too); this adds the context a bare
 * message lacks for a few.
 */
export const describeError = (e: unknown): string => {
  if (typeof e !== "object" || e === null || !("_tag" in e)) return String(e)
  const err = e as { _tag: string; message?: string } & Record<string, unknown>
  switch (err._tag) {
    case "StoreUnavailable":
      // the cluster client reports a scheduler it cannot reach as a StoreUnavailable "scheduler: …"
      return typeof err.message === "string" && err.message.startsWith("scheduler: ")
        ? `cannot reach the scheduler at ${err.address}: ${err.message.slice("scheduler: ".length)}`
        : `cannot reach the store at ${err.address}: ${err.message}`
    case "TlsConfigError":
      return `TLS: ${err.message}`
    case "InvalidArgument":
      return `invalid argument: ${err.message}`
    case "StorageError":
      return `storage error on the server: ${err.message}`
    case "Indeterminate":
      return `${err.message}; read the key back before writing again`
    default:
      return err.message && err.message.length > 0 ? err.message : err._tag
  }
}
