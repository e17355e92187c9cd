/**
 * One RPC connection to one store (TCP, msgpack). Each call has a deadline, and transport failures
 * become `StoreUnavailable` so callers never see @effect/rpc's internals. The connection lives as
 * long as the scope it was made in; a broken socket reconnects in the background.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { RpcClient, type RpcClientError } from "@effect/rpc"
import { layerFramedMsgPack } from "../rpc/framedMsgPack.js"
import { Duration, Effect, Layer, type Scope } from "effect"
import { TinyKvRpcs } from "../protocol/rpcs.js"
import { RequestTimeout, StoreUnavailable } from "./errors.js"

export type TinyKvRpcClient = RpcClient.FromGroup<typeof TinyKvRpcs, RpcClientError.RpcClientError>

export interface StoreConnection {
  readonly address: string
  /** Runs one call with the deadline and error mapping applied. */
  readonly call: <A, E>(
    method: string,
    f: (client: TinyKvRpcClient) => Effect.Effect<A, E | RpcClientError.RpcClientError>
  ) => Effect.Effect<A, Exclude<E, RpcClientError.RpcClientError> | StoreUnavailable | RequestTimeout>
}

export const parseAddress = (address: string): { host: string; port: number } => {
  const i = address.lastIndexOf(":")
  const host = i > 0 ? address.slice(0, i) : "127.0.0.1"
  const port = Number(i >= 0 ? address.slice(i + 1) : address)
  return { host, port }
}

export const isValidAddress = (address: string): boolean => {
  const { port } = parseAddress(address)
  return Number.isInteger(port) && port > 0 && port < 65536
}

export const connectStore = (
  address: string,
  options: { readonly timeout?: Duration.DurationInput } = {}
): Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const { host, port } = parseAddress(address)
    const protocol = RpcClient.layerProtocolSocket().pipe(
      Layer.provide(NodeSocket.layerNet({ host, port, noDelay: true })),
      Layer.provide(layerFramedMsgPack)
    )
    // NB: build the protocol in the caller's scope; `Effect.provide` on `make` alone would close the socket at once
    const context = yield* Layer.build(protocol).pipe(
      Effect.mapError((e) => new StoreUnavailable({ address, message: e.message }))
    )
    const client = yield* RpcClient.make(TinyKvRpcs, { disableTracing: true }).pipe(Effect.provide(context))
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    return {
      address,
      call: (method, f) =>
        f(client).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => new RequestTimeout({ address, method, timeoutMs: Duration.toMillis(timeout) })
          }),
          Effect.catchIf(
            (e): e is RpcClientError.RpcClientError =>
              typeof e === "object" && e !== null && (e as { _tag?: string })._tag === "RpcClientError",
            (e) => Effect.fail(new StoreUnavailable({ address, message: describeCause(e) }))
          )
        ) as never
    }
  })

const describeCause = (e: RpcClientError.RpcClientError): string => {
  const cause = e.cause as { message?: string; cause?: { message?: string; code?: string } } | undefined
  return cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? e.message
}
