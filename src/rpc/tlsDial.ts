/**
 * The client end of a TLS link, as an @effect/platform `Socket`: each (re)connection dials with the
 * credentials' current `SecureContext` (so a rotated certificate is used by the next dial), checks the
 * listener's certificate against the CA and the address dialled (Node's default), then waits for the
 * listener's admission frame (`tlsAdmission.ts`) before the socket is handed to RPC. Every failure to
 * open says which end refused what: the listener refused our certificate (its reason), we refused its
 * certificate, or it does not speak TLS.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Socket from "@effect/platform/Socket"
import { type Duration, Effect, Layer } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import { TlsDialError } from "./errors.js"
import { AdmissionReader } from "./tlsAdmission.js"
import type { TlsCredentials } from "./tlsCredentials.js"
import { describeVerifyError, isVerifyError } from "./tlsVerify.js"

const describeDialError = (e: NodeJS.ErrnoException, address: string, secure: boolean): Error => {
  if (e.code !== undefined && isVerifyError(e.code)) {
    return new TlsDialError(`TLS: refused the listener at ${address}: ${describeVerifyError(e.code)}`)
  }
  if (!secure && (e.code === "ECONNRESET" || e.message.includes("before secure TLS connection"))) {
    return new TlsDialError(
      `TLS: the listener at ${address} closed the connection during the handshake (is it serving without TLS?)`
    )
  }
  if (e.code?.startsWith("ERR_SSL") === true) {
    return new TlsDialError(`TLS: the handshake with ${address} failed: ${e.message}`)
  }
  // a network error (ECONNREFUSED, …): passed through, so callers describe it by its code as for plain TCP
  return e
}

/**
 * Dials `host:port` in TLS and reads the listener's admission: the socket is ready for frames (used by
 * `makeTlsSocket` below, and bare by the store-to-store Raft links, `rawDial.ts`).
 */
export const openTls = (
  host: string,
  port: number,
  credentials: TlsCredentials
): Effect.Effect<tls.TLSSocket, Socket.SocketError> =>
  Effect.async<tls.TLSSocket, Socket.SocketError>((resume) => {
    const address = `${host}:${port}`
    const socket = tls.connect({
      host,
      port,
      secureContext: credentials.current().secureContext,
      // SNI takes host names only; an IP address is checked against the certificate's IP entries anyway
      ...(net.isIP(host) === 0 ? { servername: host } : {})
    })
    socket.setNoDelay(true)
    let settled = false
    let secure = false
    const reader = new AdmissionReader()
    const settle = (outcome: Effect.Effect<tls.TLSSocket, Socket.SocketError>) => {
      if (settled) return
      settled = true
      socket.off("readable", onReadable)
      resume(outcome)
    }
    const fail = (cause: Error) => {
      socket.destroy()
      settle(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause })))
    }
    function onReadable() {
      let chunk: Buffer | null = socket.read()
      while (chunk !== null && !settled) {
        const read = reader.push(chunk)
        if (read !== undefined) {
          if (read.admission._tag === "Refused") {
            const reason = read.admission.message.replace(/^refused by the listener: /, "")
            return fail(new TlsDialError(`TLS: the listener at ${address} refused this client: ${reason}`))
          }
          // the listener says nothing more before our first request; keep whatever did follow
          if (read.rest.length > 0) socket.unshift(Buffer.from(read.rest))
          return settle(Effect.succeed(socket))
        }
        chunk = socket.read()
      }
    }
    socket.once("secureConnect", () => {
      secure = true
    })
    socket.on("readable", onReadable)
    // NB: this listener stays: an error after the hand-over must not be an uncaught exception (the
    // socket's reader adds its own)
    socket.on("error", (e) => fail(describeDialError(e, address, secure)))
    socket.once("close", () =>
      fail(
        new TlsDialError(
          secure
            ? `TLS: the listener at ${address} closed the connection before admitting this client`
            : `TLS: the listener at ${address} closed the connection during the handshake (is it serving without TLS?)`
        )
      )
    )
    return Effect.sync(() => socket.destroy())
  })

/** A TLS socket to `host:port` (reconnecting per `run`, as `NodeSocket.makeNet` does). */
export const makeTlsSocket = (
  host: string,
  port: number,
  credentials: TlsCredentials,
  openTimeout: Duration.DurationInput = "10 seconds"
): Effect.Effect<Socket.Socket> =>
  NodeSocket.fromDuplex(
    Effect.acquireRelease(openTls(host, port, credentials), (socket) =>
      Effect.sync(() => {
        if (!socket.closed) socket.destroySoon()
      })
    ),
    { openTimeout }
  )

export const layerTlsSocket = (host: string, port: number, credentials: TlsCredentials): Layer.Layer<Socket.Socket> =>
  Layer.effect(Socket.Socket, makeTlsSocket(host, port, credentials))
