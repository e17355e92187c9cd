/** Client-side errors that never cross the wire (the server's errors are the protocol's `KvError`). */
import type { KvError } from "../protocol/errorpb.js"
import type { RequestTimeout, StoreUnavailable } from "../rpc/errors.js"

export { RequestTimeout, StoreUnavailable } from "../rpc/errors.js"

/** What a client call can fail with: the store's answer, or the connection's failure. */
export type ClientError = KvError | StoreUnavailable | RequestTimeout

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
    default:
      return err.message && err.message.length > 0 ? err.message : err._tag
  }
}
