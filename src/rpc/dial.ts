/**
 * Opening an @effect/rpc client over TCP with the framed msgpack serialization: the one way every
 * connection (client → store, store → store, anyone → scheduler) is made, in plain TCP or in TLS
 * (`tlsDial.ts`).
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import type * as Socket from "@effect/platform/Socket"
import { type Rpc, RpcClient, type RpcClientError, type RpcGroup } from "@effect/rpc"
import { Context, Effect, Layer, type Schedule, type Scope } from "effect"
import { parseAddress } from "./address.js"
import { markUnsent } from "./errors.js"
import { layerFramedMsgPack } from "./framedMsgPack.js"
import { rpcTracingEnabled } from "./tracing.js"
import type { TlsCredentials } from "./tlsCredentials.js"
import { layerTlsSocket } from "./tlsDial.js"

export interface DialOptions {
  /** How a dropped socket reconnects in the background (@effect/rpc's default otherwise). */
  readonly retrySchedule?: Schedule.Schedule<unknown, Socket.SocketError> | undefined
  /** Dial with TLS, presenting these credentials (each reconnection takes their current set). */
  readonly tls?: TlsCredentials | undefined
}

/**
 * A client of `group` at `address`, connected for the lifetime of the caller's scope; the socket
 * opens lazily and reconnects in the background. Fails only when the protocol cannot be set up.
 */
export const dialRpc = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  address: string,
  options: DialOptions = {}
): Effect.Effect<RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>, { readonly message: string }, Scope.Scope> =>
  Effect.gen(function* () {
    const { host, port } = parseAddress(address)
    const protocol = RpcClient.layerProtocolSocket(
      options.retrySchedule === undefined ? {} : { retrySchedule: options.retrySchedule }
    ).pipe(
      Layer.provide(
        options.tls === undefined
          ? NodeSocket.layerNet({ host, port, noDelay: true })
          : layerTlsSocket(host, port, options.tls)
      ),
      Layer.provide(layerFramedMsgPack)
    )
    // NB: build the protocol in the caller's scope; `Effect.provide` on `make` alone would close the socket at once
    const built = yield* Layer.build(protocol)
    // a request the protocol refuses to send (its socket is down) never reached the server: say so
    const socketProtocol = Context.get(built, RpcClient.Protocol)
    const context = Context.add(built, RpcClient.Protocol, {
      ...socketProtocol,
      send: (request, transferables) => Effect.mapError(socketProtocol.send(request, transferables), markUnsent)
    })
    const tracing = yield* rpcTracingEnabled
    // the groups dialled here declare no client middleware
    return yield* (
      RpcClient.make(group, { disableTracing: !tracing }) as Effect.Effect<
        RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>,
        never,
        RpcClient.Protocol | Scope.Scope
      >
    ).pipe(Effect.provide(context))
  })
