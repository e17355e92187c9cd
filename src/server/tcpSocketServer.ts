/**
 * A plain-TCP `SocketServer` for the @effect/rpc servers of the stores and the scheduler: what
 * @effect/platform's `NodeSocketServer` does, except that stopping it destroys the connections it
 * never served instead of waiting for their peers to close them (`connectionHandoff.ts`).
 */
import * as SocketServer from "@effect/platform/SocketServer"
import { Effect, Layer, type Scope } from "effect"
import * as net from "node:net"
import { makeConnectionHandoff } from "./connectionHandoff.js"
import { serveListener } from "./listener.js"

export interface TcpListenOptions {
  readonly host: string
  readonly port: number
}

export const makeTcpSocketServer = (
  options: TcpListenOptions
): Effect.Effect<SocketServer.SocketServer["Type"], SocketServer.SocketServerError, Scope.Scope> =>
  Effect.suspend(() => {
    const handoff = makeConnectionHandoff()
    const server = net.createServer({ noDelay: true }, (socket) => {
      // an error before the connection is served must not be an uncaught exception (its reader adds its own)
      socket.on("error", () => {})
      handoff.admit(socket)
    })
    return serveListener(server, handoff, options)
  })

/** The plain-TCP socket server as a layer (port 0 picks a free port; read it back from `address`). */
export const layerTcpSocketServer = (
  options: TcpListenOptions
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.scoped(SocketServer.SocketServer, makeTcpSocketServer(options))
