/**
 * A bare socket to a store or the scheduler, ready for frames: plain TCP, or TLS with the listener's admission
 * read first (`tlsDial.ts`). Used where the frames are written without @effect/platform's `Socket`: the
 * one-way `Raft` batches one store writes to another (`src/layers/raftLink.ts`) and every RPC client
 * (`clientProtocol.ts`).
 */
import * as Socket from "@effect/platform/Socket"
import { Effect } from "effect"
import * as net from "node:net"
import { parseAddress } from "./address.js"
import { openTls } from "./tlsDial.js"
import type { TlsCredentials } from "./tlsCredentials.js"

const openTcp = (host: string, port: number): Effect.Effect<net.Socket, Socket.SocketError> =>
  Effect.async<net.Socket, Socket.SocketError>((resume) => {
    const socket = net.connect({ host, port })
    socket.setNoDelay(true)
    const onError = (cause: Error) => {
      socket.destroy()
      resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause })))
    }
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      resume(Effect.succeed(socket))
    })
    return Effect.sync(() => socket.destroy())
  })

/**
 * Connects to `host:port`; a failure is a `SocketError` of reason `Open` whose cause is the socket's error
 * (a `TlsDialError` when TLS refused). The socket has no error listener of its own once open: the caller
 * adds one at once (an error without a listener is an uncaught exception).
 */
export const openRawSocket = (
  host: string,
  port: number,
  tls: TlsCredentials | undefined
): Effect.Effect<net.Socket, Socket.SocketError> => (tls === undefined ? openTcp(host, port) : openTls(host, port, tls))

/** `openRawSocket` to `address` (`HOST:PORT`), failing with the socket's own error. */
export const dialRawSocket = (address: string, tls: TlsCredentials | undefined): Effect.Effect<net.Socket, Error> => {
  const { host, port } = parseAddress(address)
  return openRawSocket(host, port, tls).pipe(
    Effect.mapError((e) => (e.cause instanceof Error ? e.cause : new Error(String(e.cause ?? e))))
  )
}
