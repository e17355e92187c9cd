/**
 * A listening `net.Server` as an @effect/platform `SocketServer`, for the plain-TCP and TLS servers
 * (`tcpSocketServer.ts`, `tlsSocketServer.ts`): listen (failing with the listener's error), hand its
 * connections to `run` through the `ConnectionHandoff`, and on close destroy what was never served
 * before closing the listener, whose close waits for every connection.
 */
import type * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import { Deferred, Effect, Exit, type Scope } from "effect"
import type * as net from "node:net"
import type { ConnectionHandoff } from "./connectionHandoff.js"

export interface ListenOn {
  readonly host: string
  readonly port: number
}

/** Listens with `server`, whose accepted (and admitted) connections go to `handoff.admit`. */
export const serveListener = (
  server: net.Server,
  handoff: ConnectionHandoff,
  on: ListenOn
): Effect.Effect<SocketServer.SocketServer["Type"], SocketServer.SocketServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const errors = yield* Deferred.make<never, Error>()
    server.on("error", (cause) => Deferred.unsafeDone(errors, Exit.fail(cause)))
    const failed = (reason: "Open" | "Unknown") =>
      Effect.mapError(Deferred.await(errors), (cause) => new SocketServer.SocketServerError({ reason, cause }))
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
    )
    // runs before the close above: `server.close` waits for every connection
    yield* Effect.addFinalizer(() => Effect.sync(handoff.close))
    yield* Effect.async<void>((resume) => {
      server.listen({ host: on.host, port: on.port }, () => resume(Effect.void))
    }).pipe(Effect.raceFirst(failed("Open")))
    const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
      handoff.run(handler).pipe(Effect.raceFirst(failed("Unknown")))
    const address = server.address() as net.AddressInfo
    return SocketServer.SocketServer.of({
      address: { _tag: "TcpAddress", hostname: address.address, port: address.port },
      run
    })
  })
