/**
 * The failures of one connection to a store, as clients and stores see them: they never cross the
 * wire (a store's own errors are the protocol's `KvError`), and @effect/rpc's internals never leak
 * past a connection.
 */
import { RpcClientError } from "@effect/rpc"
import { Data } from "effect"

/** The store could not be reached, or the connection broke mid-call. */
export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{
  readonly address: string
  readonly message: string
  /** True when TLS refused the connection (a certificate, or TLS on one end only): retrying will not help. */
  readonly refused?: boolean | undefined
  /**
   * True when the request never left this process (no connection was open, or it never opened): the store
   * cannot have received it, so even a write that is not idempotent may be sent again. Otherwise a failure
   * mid-call leaves it unknown whether the store received, and applied, the request.
   */
  readonly unsent?: boolean | undefined
}> {}

/** A TLS link could not be made, and why, in words (the message is what callers show). */
export class TlsDialError extends Error {}

/** No answer within the call's deadline. */
export class RequestTimeout extends Data.TaggedError("RequestTimeout")<{
  readonly address: string
  readonly method: string
  readonly timeoutMs: number
}> {
  override get message(): string {
    return `${this.method} to ${this.address} timed out after ${this.timeoutMs} ms`
  }
}

export const isRpcClientError = (e: unknown): e is RpcClientError.RpcClientError =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "RpcClientError"

/**
 * True when the failure is a TLS refusal: the listener refused our certificate or our plain TCP (its
 * refusal frame says `refused`), or this end refused the listener or the handshake failed.
 */
export const isTlsRefusal = (e: RpcClientError.RpcClientError): boolean =>
  (e as { refused?: unknown }).refused === true ||
  (e.cause as { cause?: unknown } | undefined)?.cause instanceof TlsDialError

/** Transport failures of requests that were never written to a socket (see `markUnsent`). */
const unsentFailures = new WeakSet<object>()

/**
 * `e`, as the failure of a request the connection refused to send (it was down): a fresh error, since
 * @effect/rpc hands the same error object to the requests that were in flight when the socket broke.
 */
export const markUnsent = (e: RpcClientError.RpcClientError): RpcClientError.RpcClientError => {
  const marked = new RpcClientError.RpcClientError({ reason: e.reason, message: e.message, cause: e.cause })
  unsentFailures.add(marked)
  return marked
}

/**
 * True when the call's request cannot have reached the server: the connection refused to send it, or the
 * socket it waited on never opened (@effect/rpc fails the requests buffered for a socket with the socket's
 * error; an `Open` error means nothing was ever written to it).
 */
export const isUnsent = (e: RpcClientError.RpcClientError): boolean =>
  unsentFailures.has(e) || (e.cause as { reason?: unknown } | undefined)?.reason === "Open"

/** The most telling part of a transport failure: the socket's error code (ECONNREFUSED, …) when there is one. */
export const describeRpcClientError = (e: RpcClientError.RpcClientError): string => {
  const cause = e.cause as { message?: string; cause?: { message?: string; code?: string } } | undefined
  return cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? e.message
}
