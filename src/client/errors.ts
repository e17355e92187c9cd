/** Client-side errors that never cross the wire (the server's errors are the protocol's `KvError`). */
import { Data } from "effect"

/** The store could not be reached, or the connection broke mid-call. */
export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{
  readonly address: string
  readonly message: string
}> {}

/** No answer within the call's deadline. */
export class RequestTimeout extends Data.TaggedError("RequestTimeout")<{
  readonly address: string
  readonly method: string
  readonly timeoutMs: number
}> {}

/** A user-facing one-line description of any client or server error. */
export const describeError = (e: unknown): string => {
  if (typeof e !== "object" || e === null || !("_tag" in e)) return String(e)
  const err = e as { _tag: string; message?: string } & Record<string, unknown>
  switch (err._tag) {
    case "StoreUnavailable":
      return `cannot reach the store at ${err.address}: ${err.message}`
    case "RequestTimeout":
      return `${err.method} to ${err.address} timed out after ${err.timeoutMs} ms`
    case "InvalidArgument":
      return `invalid argument: ${err.message}`
    case "StorageError":
      return `storage error on the server: ${err.message}`
    case "NotLeader":
      return "the store is not the leader of the key's region"
    case "RegionNotFound":
      return "the store does not hold the key's region"
    default:
      return err.message && err.message.length > 0 ? `${err._tag}: ${err.message}` : err._tag
  }
}
