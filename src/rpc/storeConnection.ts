/**
 * One RPC connection to one store (TCP, framed msgpack), used by clients and by stores sending to
 * each other. Each call has a deadline, and transport failures become `StoreUnavailable` so callers
 * never see @effect/rpc's internals. The connection lives as long as the scope it was made in; a
 * broken socket reconnects in the background.
 */
import type { RpcClient, RpcClientError } from "@effect/rpc"
import { Duration, Effect, type Scope } from "effect"
import { HOT_RAW_CALLS, TinyKvRpcs } from "../protocol/rpcs.js"
import { type CallBound, type CallDeadline, callBound } from "./callDeadline.js"
import { dialRpcConnection } from "./dial.js"
import type { LeanCalls } from "./leanCalls.js"
import type { TlsCredentials } from "./tlsCredentials.js"
import {
  describeRpcClientError,
  isRpcClientError,
  isTlsRefusal,
  isUnsent,
  RequestTimeout,
  StoreUnavailable
} from "./errors.js"

export type { CallDeadline } from "./callDeadline.js"

export type TinyKvRpcClient = RpcClient.FromGroup<typeof TinyKvRpcs, RpcClientError.RpcClientError>

export interface StoreConnection {
  readonly address: string
  /**
   * Runs one call — `f` makes the request named `method` — with the connection's timeout (or `deadline`,
   * when sooner) and error mapping applied.
   */
  readonly call: <A, E, D = never>(
    method: string,
    f: (client: TinyKvRpcClient) => Effect.Effect<A, E | RpcClientError.RpcClientError>,
    deadline?: CallDeadline<D>
  ) => Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | StoreUnavailable | RequestTimeout | D>
}

export interface StoreConnectionOptions {
  /** Deadline of each call (default 10 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Dial with TLS, presenting these credentials. */
  readonly tls?: TlsCredentials | undefined
}

/** A transport failure as callers see it. */
const unavailable = (address: string, e: RpcClientError.RpcClientError): StoreUnavailable =>
  new StoreUnavailable({
    address,
    message: describeRpcClientError(e),
    refused: isTlsRefusal(e),
    ...(isUnsent(e) ? { unsent: true } : {})
  })

/**
 * The client with each request bounded by `bound()` as read when the request is made (failing with its
 * `onPassed`, else `timedOut(tag)()`): the lean ones by their own timer, the others raced against it.
 */
const boundedClient = (
  client: TinyKvRpcClient,
  lean: LeanCalls,
  bound: () => CallBound,
  timedOut: (method: string) => () => RequestTimeout
): TinyKvRpcClient => {
  const methods: Record<string, unknown> = {}
  for (const tag of TinyKvRpcs.requests.keys()) {
    const onTimeout = timedOut(tag)
    const plain = (client as unknown as Record<string, (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown>>)[
      tag
    ]!
    methods[tag] = lean.tags.has(tag)
      ? (payload: unknown) => {
          const b = bound()
          return lean.call(tag, payload, b.ms, b.onPassed ?? onTimeout)
        }
      : (...args: ReadonlyArray<unknown>) => {
          const b = bound()
          return Effect.timeoutFail(plain(...args), { duration: b.ms, onTimeout: b.onPassed ?? onTimeout })
        }
  }
  return methods as unknown as TinyKvRpcClient
}

export const connectStore = (
  address: string,
  options: StoreConnectionOptions = {}
): Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const { client, lean } = yield* Effect.mapError(
      dialRpcConnection(TinyKvRpcs, address, { tls: options.tls, leanTags: HOT_RAW_CALLS }),
      (e) => new StoreUnavailable({ address, message: e.message })
    )
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    const timeoutMs = Duration.toMillis(timeout)
    const timedOut = (method: string) => () => new RequestTimeout({ address, method, timeoutMs })
    const whole: CallBound = { ms: timeoutMs, onPassed: undefined }
    // NB: the bound of the call whose `f` is running; `f` makes its request as it runs (every caller's
    // `(rpc) => rpc.Method(…)`), so the request reads its own call's bound and no per-call client is built
    let current = whole
    const bounded = lean === undefined ? undefined : boundedClient(client, lean, () => current, timedOut)
    const run = <A, E>(
      method: string,
      f: (client: TinyKvRpcClient) => Effect.Effect<A, E>,
      b: CallBound
    ): Effect.Effect<A, unknown> => {
      if (bounded === undefined) {
        return Effect.timeoutFail(f(client), { duration: b.ms, onTimeout: b.onPassed ?? timedOut(method) })
      }
      current = b
      try {
        return f(bounded)
      } finally {
        current = whole
      }
    }
    return {
      address,
      call: (method, f, deadline) =>
        (deadline === undefined
          ? Effect.suspend(() => run(method, f, whole))
          : Effect.clockWith((clock) => run(method, f, callBound(timeoutMs, deadline, clock.unsafeCurrentTimeMillis())))
        ).pipe(Effect.catchIf(isRpcClientError, (e) => Effect.fail(unavailable(address, e)))) as never
    }
  })
