/**
 * How a listener's accepted connections reach the `run` of its `SocketServer` (plain TCP in
 * `tcpSocketServer.ts`, TLS in `tlsSocketServer.ts`): connections that arrive before `run` wait for it,
 * each served one is a fiber of `run`'s, and closing the listener destroys what was never served.
 *
 * Why not @effect/platform's `NodeSocketServer`: once `run` has ended (the store is stopping) it keeps
 * every connection accepted afterwards for a later `run` that never comes, and its `server.close` then waits
 * for those connections to end, which only the peer can do. A store's peers reconnect at once when it stops
 * serving them, and a store-to-store link never closes an idle connection by itself (`raftLink.ts`):
 * a stopping store waited on them for good.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import type * as Socket from "@effect/platform/Socket"
import { Effect, Exit, FiberSet, Scope } from "effect"
import type * as net from "node:net"

export interface ConnectionHandoff {
  /** Called by the listener for every connection it accepts (and admits). */
  readonly admit: (socket: net.Socket) => void
  /** The `SocketServer.run`: serves each connection with `handler` until interrupted. */
  readonly run: <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) => Effect.Effect<never, never, R>
  /** Destroys the connections waiting for a `run`, and every one accepted from now on. */
  readonly close: () => void
}

/**
 * The socket as given to the server, except that a chunk whose handling is `Effect.void` (RpcServer's answer
 * for a chunk none of whose frames is left for it: `src/server/raftIntake.ts` took them all) forks no fiber —
 * the platform socket runs every Effect its handler returns on a fiber of its own.
 */
const withoutIdleChunks = (socket: Socket.Socket): Socket.Socket => {
  const skipIdle =
    <D, Result>(handler: (data: D) => Result) =>
    (data: D): Result | undefined => {
      const result = handler(data)
      return (result as unknown) === Effect.void ? undefined : result
    }
  return {
    ...socket,
    run: (handler, options) => socket.run(skipIdle(handler), options),
    runRaw: (handler, options) => socket.runRaw(skipIdle(handler), options)
  }
}

export const makeConnectionHandoff = (): ConnectionHandoff => {
  const pending: Array<net.Socket> = []
  let closed = false
  let onAdmitted = (socket: net.Socket) => void pending.push(socket)

  const run = <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const fibers = yield* FiberSet.make().pipe(Scope.extend(scope))
      const fork = yield* FiberSet.runtime(fibers)<R>()
      const serve = (conn: net.Socket) =>
        void fork(
          NodeSocket.fromDuplex(
            Effect.acquireRelease(Effect.succeed(conn), (c) =>
              Effect.sync(() => {
                if (!c.closed) c.destroySoon()
              })
            )
          ).pipe(
            Effect.map(withoutIdleChunks),
            Effect.flatMap(handler),
            Effect.catchAllCause((cause) => Effect.logDebug("connection ended", cause)),
            Effect.provideService(NodeSocket.NetSocket, conn)
          )
        )
      return yield* Effect.async<never>(() => {
        const previous = onAdmitted
        onAdmitted = serve
        for (const conn of pending.splice(0)) serve(conn)
        return Effect.suspend(() => {
          onAdmitted = previous
          return Scope.close(scope, Exit.void)
        })
      })
    })

  return {
    admit: (socket) => {
      if (closed) socket.destroy()
      else onAdmitted(socket)
    },
    run,
    close: () => {
      closed = true
      for (const socket of pending.splice(0)) socket.destroy()
    }
  }
}
