/**
 * Opening an @effect/rpc client over TCP with the framed msgpack serialization: the one way every
 * connection (client → store, store → store, anyone → scheduler) is made, in plain TCP or in TLS
 * (`tlsDial.ts`).
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import type * as Socket from "@effect/platform/Socket"
import { type Rpc, RpcClient, type RpcClientError, type RpcGroup } from "@effect/rpc"
import type { RequestEncoded } from "@effect/rpc/RpcMessage"
import { Context, Effect, Layer, type Schedule, type Scope } from "effect"
import { parseAddress } from "./address.js"
import { markUnsent } from "./errors.js"
import { layerFramedMsgPack } from "./framedMsgPack.js"
import { type LeanCalls, makeLeanCalls } from "./leanCalls.js"
import { rpcTracingEnabled } from "./tracing.js"
import type { TlsCredentials } from "./tlsCredentials.js"
import { layerTlsSocket } from "./tlsDial.js"

export interface DialOptions {
  /** How a dropped socket reconnects in the background (@effect/rpc's default otherwise). */
  readonly retrySchedule?: Schedule.Schedule<unknown, Socket.SocketError> | undefined
  /** Dial with TLS, presenting these credentials (each reconnection takes their current set). */
  readonly tls?: TlsCredentials | undefined
  /** Requests of `group` sent as lean calls (`leanCalls.ts`) when RPC tracing is off. */
  readonly leanTags?: ReadonlyArray<string> | undefined
}

/** A dialled connection: the @effect/rpc client, and the raw request writer beneath it. */
export interface RpcConnection<Rpcs extends Rpc.Any> {
  readonly client: RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>
  /**
   * Writes an already encoded request to the socket, bypassing the client: for requests that are never
   * answered (`src/protocol/oneWay.ts`). The client would keep an entry for each until its answer came —
   * for ever, one per call (measured in docs/PERFORMANCE.md, "Where the memory goes").
   */
  readonly sendEncoded: (request: RequestEncoded) => Effect.Effect<void, RpcClientError.RpcClientError>
  /** The lean calls of `leanTags`; absent with tracing on (their spans are `RpcClient`'s to make). */
  readonly lean: LeanCalls | undefined
}

/**
 * A connection to `group` at `address`, for the lifetime of the caller's scope; the socket opens lazily
 * and reconnects in the background. Fails only when the protocol cannot be set up.
 */
export const dialRpcConnection = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  address: string,
  options: DialOptions = {}
): Effect.Effect<RpcConnection<Rpcs>, { readonly message: string }, Scope.Scope> =>
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
    const sendEncoded = (request: RequestEncoded) => Effect.mapError(socketProtocol.send(request), markUnsent)
    const tracing = yield* rpcTracingEnabled
    const lean =
      tracing || options.leanTags === undefined ? undefined : yield* makeLeanCalls(group, options.leanTags, sendEncoded)
    const context = Context.add(built, RpcClient.Protocol, {
      ...socketProtocol,
      send: (request, transferables) => Effect.mapError(socketProtocol.send(request, transferables), markUnsent),
      // the lean calls see each answer first; the rest is RpcClient's
      run:
        lean === undefined
          ? socketProtocol.run
          : (f) => socketProtocol.run((message) => (lean.receive(message) ? Effect.void : f(message)))
    })
    // the groups dialled here declare no client middleware
    const client = yield* (
      RpcClient.make(group, { disableTracing: !tracing }) as Effect.Effect<
        RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>,
        never,
        RpcClient.Protocol | Scope.Scope
      >
    ).pipe(Effect.provide(context))
    return { client, sendEncoded, lean }
  })

/** `dialRpcConnection`'s client alone. */
export const dialRpc = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  address: string,
  options: DialOptions = {}
): Effect.Effect<RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>, { readonly message: string }, Scope.Scope> =>
  Effect.map(dialRpcConnection(group, address, options), (c) => c.client)
