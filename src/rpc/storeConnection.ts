/**
 * One RPC connection to one store (TCP, framed msgpack), used by clients and by stores sending to
 * each other. Each call has a deadline, and transport failures become `StoreUnavailable` so callers
 * never see @effect/rpc's internals. The connection lives as long as the scope it was made in; a
 * broken socket reconnects in the background.
 */
import type { RpcClient, RpcClientError } from "@effect/rpc"
import { Duration, Effect, type Scope } from "effect"
import { TinyKvRpcs } from "../protocol/rpcs.js"
import { dialRpc } from "./dial.js"
import type { TlsCredentials } from "./tlsCredentials.js"
import {
  describeRpcClientError,
  isRpcClientError,
  isTlsRefusal,
  isUnsent,
  RequestTimeout,
  StoreUnavailable
} from "./errors.js"

export type TinyKvRpcClient = RpcClient.FromGroup<typeof TinyKvRpcs, RpcClientError.RpcClientError>

export interface StoreConnection {
  readonly address: string
  /** Runs one call with the deadline and error mapping applied. */
  readonly call: <A, E>(
    method: string,
    f: (client: TinyKvRpcClient) => Effect.Effect<A, E | RpcClientError.RpcClientError>
  ) => Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | StoreUnavailable | RequestTimeout>
}

export interface StoreConnectionOptions {
  /** Deadline of each call (default 10 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Dial with TLS, presenting these credentials. */
  readonly tls?: TlsCredentials | undefined
}

export const connectStore = (
  address: string,
  options: StoreConnectionOptions = {}
): Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* Effect.mapError(
      dialRpc(TinyKvRpcs, address, { tls: options.tls }),
      (e) => new StoreUnavailable({ address, message: e.message })
    )
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    return {
      address,
      call: (method, f) =>
        f(client).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => new RequestTimeout({ address, method, timeoutMs: Duration.toMillis(timeout) })
          }),
          Effect.catchIf(isRpcClientError, (e) =>
            Effect.fail(
              new StoreUnavailable({
                address,
                message: describeRpcClientError(e),
                refused: isTlsRefusal(e),
                ...(isUnsent(e) ? { unsent: true } : {})
              })
            )
          )
        ) as never
    }
  })
