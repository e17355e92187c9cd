/**
 * Opening an @effect/rpc client over TCP with the framed msgpack serialization: the one way every
 * connection (client → store, store → store, anyone → scheduler) is made, in plain TCP or in TLS
 * (`tlsDial.ts`).
 */
import type * as Socket from "@effect/platform/Socket"
import { type Rpc, RpcClient, type RpcClientError, type RpcGroup } from "@effect/rpc"
import { Context, Effect, type Schedule, type Scope } from "effect"
import { parseAddress } from "./address.js"
import { makeClientProtocol } from "./clientProtocol.js"
import { markUnsent } from "./errors.js"
import { type LeanCalls, makeLeanCalls } from "./leanCalls.js"
import { rpcTracingEnabled } from "./tracing.js"
import type { TlsCredentials } from "./tlsCredentials.js"

export interface DialOptions {
  /** How a dropped socket reconnects in the background (from 500 ms, ×1.5 per failure, at most every 5 s, otherwise). */
  readonly retrySchedule?: Schedule.Schedule<unknown, Socket.SocketError> | undefined
  /** Dial with TLS, presenting these credentials (each reconnection takes their current set). */
  readonly tls?: TlsCredentials | undefined
  /** Requests of `group` sent as lean calls (`leanCalls.ts`) when RPC tracing is off. */
  readonly leanTags?: ReadonlyArray<string> | undefined
}

/** A dialled connection: the @effect/rpc client, and the lean calls beside it. */
export interface RpcConnection<Rpcs extends Rpc.Any> {
  readonly client: RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>
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
    const connection = yield* makeClientProtocol({
      host,
      port,
      tls: options.tls,
      retrySchedule: options.retrySchedule
    })
    const tracing = yield* rpcTracingEnabled
    const lean =
      tracing || options.leanTags === undefined ? undefined : yield* makeLeanCalls(group, options.leanTags, connection)
    if (lean !== undefined) connection.setReceiver(lean.receive)
    // a request the connection refuses to send (its socket is down) never reached the server: say so
    const context = Context.make(RpcClient.Protocol, {
      ...connection.protocol,
      send: (request, transferables) => Effect.mapError(connection.protocol.send(request, transferables), markUnsent)
    })
    // the groups dialled here declare no client middleware
    const client = yield* (
      RpcClient.make(group, { disableTracing: !tracing }) as Effect.Effect<
        RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>,
        never,
        RpcClient.Protocol | Scope.Scope
      >
    ).pipe(Effect.provide(context))
    return { client, lean }
  })

/** `dialRpcConnection`'s client alone. */
export const dialRpc = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  address: string,
  options: DialOptions = {}
): Effect.Effect<RpcClient.RpcClient<Rpcs, RpcClientError.RpcClientError>, { readonly message: string }, Scope.Scope> =>
  Effect.map(dialRpcConnection(group, address, options), (c) => c.client)
