/**
 * What every TLS-only listener of a process does before its own protocol starts (the RPC listener in
 * `src/server/tlsSocketServer.ts`, the status listener in `src/status/tlsHttpServer.ts`):
 * - the first bytes of each TCP connection tell a TLS client (a handshake record starts with 0x16) from a
 *   plain one, which is refused in the listener's own words;
 * - the TLS server asks for a client certificate but lets the handshake finish, so the listener's
 *   `checkPeerCertificate` can say which check failed;
 * - a failed handshake is logged with the remote address.
 */
import type * as net from "node:net"
import type * as tls from "node:tls"
import type { TlsCredentials } from "./tlsCredentials.js"

/** The first byte of a TLS record carrying a handshake. */
const TLS_HANDSHAKE = 0x16

/** How long a client may take to say anything or finish its handshake, unless the listener says. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

export const remoteOf = (socket: net.Socket): string => `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`

/** The TLS server's options from the credentials' current files. */
export const secureServerOptions = (credentials: TlsCredentials, handshakeTimeoutMs: number): tls.TlsOptions => {
  const loaded = credentials.current()
  return {
    ca: loaded.ca,
    cert: loaded.cert,
    key: loaded.key,
    requestCert: true,
    // NB: verified after the handshake by checkPeerCertificate, so a refusal can say which check failed
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs
  }
}

/** Logs each failed handshake on `server`; `handshake` names it in the message, e.g. "the handshake". */
export const logHandshakeFailures = (server: tls.Server, handshake: string, log: (message: string) => void): void => {
  server.on("tlsClientError", (e: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    // NB: a socket the client already closed no longer knows its remote address
    const who = socket.remoteAddress === undefined ? "a client" : remoteOf(socket)
    const why =
      e.code === "ECONNRESET"
        ? "the client closed the connection (did it refuse this listener's certificate?)"
        : e.message
    log(`TLS: ${handshake} with ${who} failed: ${why}`)
  })
}

/**
 * A TCP connection listener that hands TLS connections to `tlsServer` (buffered first bytes included)
 * and plain ones to `refusePlain`. A connection that never says anything is closed after
 * `handshakeTimeoutMs`; the TLS server times the rest of the handshake.
 */
export const frontDoor =
  (tlsServer: tls.Server, handshakeTimeoutMs: number, refusePlain: (conn: net.Socket) => void) =>
  (conn: net.Socket): void => {
    conn.on("error", () => {})
    conn.setTimeout(handshakeTimeoutMs, () => conn.destroy())
    conn.once("data", (chunk: Buffer) => {
      conn.setTimeout(0)
      if (chunk[0] !== TLS_HANDSHAKE) return refusePlain(conn)
      conn.pause()
      conn.unshift(chunk)
      tlsServer.emit("connection", conn)
    })
  }
