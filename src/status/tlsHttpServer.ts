/**
 * The status listener's HTTP server when the process runs with TLS: HTTPS only, with the cluster's
 * credentials and the same admission rules as the RPC listeners (`src/server/tlsSocketServer.ts`).
 *
 * - A connection whose first byte is not a TLS handshake is a plain-HTTP client: it gets a
 *   `400 Bad Request` that says the port requires HTTPS, and is closed.
 * - The handshake asks for the client's certificate but lets it finish, so the check that follows
 *   (`checkPeerCertificate`: no certificate, wrong CA, expired, name not on `--tls-allowed-cn`) can
 *   answer in words: a refused request gets `403 Forbidden` with the reason, and never reaches a route.
 * - Each refusal is logged with the remote address and the reason; other connections are not affected.
 * - Certificates are reloaded with the credentials: `setSecureContext` makes new handshakes use the new
 *   files while established connections go on.
 */
import { HttpServer } from "@effect/platform"
import { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer, Runtime, type Scope } from "effect"
import type * as http from "node:http"
import * as https from "node:https"
import * as net from "node:net"
import type * as tls from "node:tls"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  frontDoor,
  logHandshakeFailures,
  remoteOf,
  secureServerOptions
} from "../rpc/tlsFrontDoor.js"
import { checkPeerCertificate } from "../rpc/tlsVerify.js"

export interface TlsHttpListenOptions {
  readonly host: string
  readonly port: number
  /** How long a client may take to finish its handshake (default 10 s). */
  readonly handshakeTimeoutMs?: number | undefined
}

const PLAIN_HTTP_REFUSAL =
  "this status listener requires HTTPS with a client certificate signed by the cluster's CA (mutual TLS)\n"

const plainHttpResponse = (): string =>
  [
    "HTTP/1.1 400 Bad Request",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(PLAIN_HTTP_REFUSAL)}`,
    "Connection: close",
    "",
    PLAIN_HTTP_REFUSAL
  ].join("\r\n")

export const makeTlsHttpServer = (
  options: TlsHttpListenOptions,
  credentials: TlsCredentials
): Effect.Effect<HttpServer.HttpServer, ServeError, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const log = (message: string) => Runtime.runFork(runtime)(Effect.logWarning(message))
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    // every connection accepted, so closing the listener does not wait for idle keep-alive ones
    const connections = new Set<net.Socket>()

    const httpsServer = https.createServer(secureServerOptions(credentials, handshakeTimeoutMs))
    logHandshakeFailures(httpsServer, "the status listener's handshake", log)
    yield* credentials.onReload((next) => httpsServer.setSecureContext({ ca: next.ca, cert: next.cert, key: next.key }))

    const door = frontDoor(httpsServer, handshakeTimeoutMs, (conn) => {
      log(`TLS: refused a connection from ${remoteOf(conn)} to the status listener: it sent plain HTTP`)
      conn.end(plainHttpResponse())
      conn.setTimeout(5_000, () => conn.destroy())
    })
    const server = net.createServer((conn) => {
      connections.add(conn)
      conn.once("close", () => connections.delete(conn))
      door(conn)
    })
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        for (const conn of connections) conn.destroy()
      })
    )
    yield* Effect.async<void, ServeError>((resume) => {
      const onError = (cause: Error) => resume(Effect.fail(new ServeError({ cause })))
      server.once("error", onError)
      server.listen({ host: options.host, port: options.port }, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    const address = server.address() as net.AddressInfo

    /** The route handler behind the certificate check. */
    const admit =
      (handler: (request: http.IncomingMessage, response: http.ServerResponse) => void) =>
      (request: http.IncomingMessage, response: http.ServerResponse) => {
        const check = checkPeerCertificate(request.socket as tls.TLSSocket, credentials.allowedCn)
        if (check._tag === "Accepted") return handler(request, response)
        log(`TLS: refused a status request from ${remoteOf(request.socket)}: ${check.reason}`)
        response.writeHead(403, { "content-type": "text/plain; charset=utf-8", connection: "close" })
        response.end(`refused by the status listener: ${check.reason}\n`)
      }

    return HttpServer.make({
      address: {
        _tag: "TcpAddress",
        hostname: address.address === "::" ? "0.0.0.0" : address.address,
        port: address.port
      },
      serve: (httpApp, middleware) =>
        Effect.gen(function* () {
          const handler = admit(yield* NodeHttpServer.makeHandler(httpApp, middleware!))
          yield* Effect.addFinalizer(() => Effect.sync(() => void httpsServer.off("request", handler)))
          httpsServer.on("request", handler)
        })
    })
  })

/** The HTTPS server with what routes need of the platform (as `NodeHttpServer.layer` gives for HTTP). */
export const layerTlsHttpServer = (options: TlsHttpListenOptions, credentials: TlsCredentials) =>
  Layer.merge(Layer.scoped(HttpServer.HttpServer, makeTlsHttpServer(options, credentials)), NodeHttpServer.layerContext)
