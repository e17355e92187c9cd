/**
 * A `SocketServer` that serves TLS only, with mutual authentication: the @effect/rpc servers of the
 * stores and the scheduler run on it unchanged.
 *
 * Every accepted TCP connection is first looked at: a TLS handshake starts with byte 0x16, anything
 * else is a plain-TCP client, which is told in its own framing that this port requires TLS (see
 * `tlsAdmission.ts`) and closed. A TLS connection is handed to a `tls.Server` that asks for the
 * client's certificate but lets the handshake finish, so the check that follows can say what was
 * wrong (`checkPeerCertificate`: no certificate, wrong CA, expired, name not allowed). A refused
 * connection gets a refusal frame and is closed before any of its bytes reach RPC, so it can write
 * nothing; an admitted one gets the admission frame and is served. Each refusal is logged with the
 * remote address and the reason; other connections are not affected.
 *
 * Certificates are reloaded with the credentials: `tls.Server#setSecureContext` makes new handshakes
 * use the new files while established connections go on.
 */
import * as SocketServer from "@effect/platform/SocketServer"
import { Effect, Layer, Runtime, type Scope } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import { admittedFrame, refusalFrame } from "../rpc/tlsAdmission.js"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  frontDoor,
  logHandshakeFailures,
  remoteOf,
  secureServerOptions
} from "../rpc/tlsFrontDoor.js"
import { checkPeerCertificate } from "../rpc/tlsVerify.js"
import { makeConnectionHandoff } from "./connectionHandoff.js"
import { serveListener } from "./listener.js"

export interface TlsListenOptions {
  readonly host: string
  readonly port: number
  /** How long a client may take to finish its handshake (default 10 s). */
  readonly handshakeTimeoutMs?: number | undefined
}

export const makeTlsSocketServer = (
  options: TlsListenOptions,
  credentials: TlsCredentials
): Effect.Effect<SocketServer.SocketServer["Type"], SocketServer.SocketServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const log = (message: string) => Runtime.runFork(runtime)(Effect.logWarning(message))

    // admitted connections wait for `run`; closing destroys those never served (`connectionHandoff.ts`)
    const handoff = makeConnectionHandoff()

    const refuse = (socket: net.Socket, remote: string, reason: string) => {
      log(`TLS: refused a connection from ${remote}: ${reason}`)
      socket.end(refusalFrame(`refused by the listener: ${reason}`))
      // a peer that never reads must not keep the socket open
      socket.setTimeout(5_000, () => socket.destroy())
    }

    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    const tlsServer = tls.createServer(secureServerOptions(credentials, handshakeTimeoutMs))
    tlsServer.on("secureConnection", (socket: tls.TLSSocket) => {
      socket.on("error", () => {})
      const remote = remoteOf(socket)
      const check = checkPeerCertificate(socket, credentials.allowedCn)
      if (check._tag === "Refused") return refuse(socket, remote, check.reason)
      socket.write(admittedFrame())
      handoff.admit(socket)
    })
    logHandshakeFailures(tlsServer, "the handshake", log)
    yield* credentials.onReload((next) => tlsServer.setSecureContext({ ca: next.ca, cert: next.cert, key: next.key }))

    const server = net.createServer(
      { noDelay: true },
      frontDoor(tlsServer, handshakeTimeoutMs, (conn) =>
        refuse(conn, remoteOf(conn), "it connected in plain TCP, and this port requires TLS")
      )
    )
    return yield* serveListener(server, handoff, options)
  })

/** The TLS socket server as a layer (port 0 picks a free port; read it back from `address`). */
export const layerTlsSocketServer = (
  options: TlsListenOptions,
  credentials: TlsCredentials
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.scoped(SocketServer.SocketServer, makeTlsSocketServer(options, credentials))
