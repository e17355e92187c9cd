/**
 * A plain-TCP `SocketServer` for the @effect/rpc servers of the stores and the scheduler: what
 * @effect/platform's `NodeSocketServer` does, except that stopping it destroys the connections it
 * never served instead of waiting for their peers to close them (`connectionHandoff.ts`).
 */
import type * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import { Deferred, Effect, Exit, Layer, type Scope } from "effect"
import * as net from "node:net"
import { makeConnectionHandoff } from "./connectionHandoff.js"

export interface TcpListenOptions {
  readonly host: string
  readonly port: number
}

export const makeTcpSocketServer = (
  options: TcpListenOptions
): Effect.Effect<SocketServer.SocketServer["Type"], SocketServer.SocketServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const errors = yield* Deferred.make<never, Error>()
    const handoff = makeConnectionHandoff()
    const server = net.createServer({ noDelay: true }, (socket) => {
      // an error before the connection is served must not be an uncaught exception (its reader adds its own)
      socket.on("error", () => {})
      handoff.admit(socket)
    })
    server.on("error", (cause) => Deferred.unsafeDone(errors, Exit.fail(cause)))
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
    )
    // runs before the close above: `server.close` waits for every connection
    yield* Effect.addFinalizer(() => Effect.sync(handoff.close))
    yield* Effect.async<void>((resume) => {
      server.listen({ host: options.host, port: options.port }, () => resume(Effect.void))
    }).pipe(
      Effect.raceFirst(
        Effect.mapError(
          Deferred.await(errors),
          (cause) => new SocketServer.SocketServerError({ reason: "Open", cause })
        )
      )
    )
    const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
      handoff
        .run(handler)
        .pipe(
          Effect.raceFirst(
            Effect.mapError(
              Deferred.await(errors),
              (cause) => new SocketServer.SocketServerError({ reason: "Unknown", cause })
            )
          )
        )
    const address = server.address() as net.AddressInfo
    return SocketServer.SocketServer.of({
      address: { _tag: "TcpAddress", hostname: address.address, port: address.port },
      run
    })
  })

/** The plain-TCP socket server as a layer (port 0 picks a free port; read it back from `address`). */
export const layerTcpSocketServer = (
  options: TcpListenOptions
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.scoped(SocketServer.SocketServer, makeTcpSocketServer(options))
