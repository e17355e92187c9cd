/**
 * A bare socket to a store, for the one-way `Raft` batches one store writes to another
 * (`src/layers/raftLink.ts`): no @effect/rpc client on it, the sender writes the frames itself. Plain TCP,
 * or TLS with the listener's admission read first (`tlsDial.ts`), so the socket is ready for frames.
 */
import { Effect } from "effect"
import * as net from "node:net"
import { parseAddress } from "./address.js"
import { openTls } from "./tlsDial.js"
import type { TlsCredentials } from "./tlsCredentials.js"

const dialTcp = (host: string, port: number): Effect.Effect<net.Socket, Error> =>
  Effect.async<net.Socket, Error>((resume) => {
    const socket = net.connect({ host, port })
    socket.setNoDelay(true)
    const onError = (e: Error) => {
      socket.destroy()
      resume(Effect.fail(e))
    }
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      resume(Effect.succeed(socket))
    })
    return Effect.sync(() => socket.destroy())
  })

/**
 * Connects to `address` (`HOST:PORT`). The socket has no error listener yet: the caller adds its own at
 * once (an error without a listener is an uncaught exception).
 */
export const dialRawSocket = (address: string, tls: TlsCredentials | undefined): Effect.Effect<net.Socket, Error> => {
  const { host, port } = parseAddress(address)
  if (tls === undefined) return dialTcp(host, port)
  return openTls(host, port, tls).pipe(
    Effect.mapError((e) => (e.cause instanceof Error ? e.cause : new Error(String(e.cause ?? e))))
  )
}
