/** Client-side errors that never cross the wire (the server's errors are the protocol's `KvError`). */
import { fromUtf8, toHex } from "../protocol/bytes.js"
import type { KvError } from "../protocol/errorpb.js"
import type { RequestTimeout, StoreUnavailable } from "../rpc/errors.js"

export { RequestTimeout, StoreUnavailable } from "../rpc/errors.js"

/** What a client call can fail with: the store's answer, or the connection's failure. */
export type ClientError = KvError | StoreUnavailable | RequestTimeout

/** A user-facing one-line description of any client or server error. */
export const describeError = (e: unknown): string => {
  if (typeof e !== "object" || e === null || !("_tag" in e)) return String(e)
  const err = e as { _tag: string; message?: string } & Record<string, unknown>
  switch (err._tag) {
    case "StoreUnavailable":
      return `cannot reach the store at ${err.address}: ${err.message}`
    case "RequestTimeout":
      return `${err.method} to ${err.address} timed out after ${err.timeoutMs} ms`
    case "TlsConfigError":
      return `TLS: ${err.message}`
    case "InvalidArgument":
      return `invalid argument: ${err.message}`
    case "StorageError":
      return `storage error on the server: ${err.message}`
    case "NotLeader":
      return "the store is not the leader of the key's region"
    case "RegionNotFound":
      return "the store does not hold the key's region"
    case "WriteConflict":
      return (
        `write conflict on key ${showKey(err.key)}: another transaction committed it (at ts ${String(err.conflictTs)}) ` +
        `after this one started (at ts ${String(err.startTs)}); nothing was committed, retrying the transaction may help`
      )
    case "KeyIsLocked": {
      const lock = err.lock as { key?: unknown; lockVersion?: unknown } | undefined
      return (
        `key ${showKey(lock?.key)} is locked by a transaction that is still running (started at ts ` +
        `${String(lock?.lockVersion)}); nothing was committed, retrying later may help`
      )
    }
    case "TxnAborted":
      return `the transaction was aborted (${String(err.reason)}); nothing was committed, retrying it may help`
    default:
      return err.message && err.message.length > 0 ? `${err._tag}: ${err.message}` : err._tag
  }
}

/** A key for a message: quoted text when it is printable UTF-8, else hex. */
const showKey = (key: unknown): string => {
  if (!(key instanceof Uint8Array)) return String(key)
  const text = fromUtf8(key)
  // letters, digits, punctuation, symbols and spaces; controls or invalid UTF-8 (U+FFFD) read better as hex
  return /^[\p{L}\p{N}\p{P}\p{S} ]*$/u.test(text) && !text.includes("\uFFFD") ? JSON.stringify(text) : `0x${toHex(key)}`
}
