/**
 * The client end of every RPC connection (`dial.ts`): @effect/rpc's client `Protocol` over a bare Node socket
 * (plain TCP or TLS, `rawDial.ts`) with the framing of `framedMsgPack.ts`.
 *
 * Why not `RpcClient.layerProtocolSocket` over @effect/platform's `Socket`: that forks a fiber for every chunk
 * the socket reads, and each write is an Effect that waits for the socket's callback. The hottest calls need
 * neither (`leanCalls.ts`): here every message from the server is first offered, synchronously, to the
 * connection's `receiver` (the lean calls answer their callers from it) and only the rest goes on to
 * `RpcClient`, through a fiber; and `writeNow` writes a request on its caller's fiber while the socket is open.
 * In the client of the benchmark's 64 connections that was about a fifth of its CPU per operation
 * (docs/PERFORMANCE.md, "The client's socket").
 *
 * What it keeps of `layerProtocolSocket`: the socket is opened at once, and again after a failure on
 * `retrySchedule`; each failure goes to `RpcClient` as a `ClientProtocolError` (which ends its calls in
 * flight); until the socket opens again every send fails at once with that failure, while before the very
 * first opening sends wait for it; and a ping every 10 s, a connection that left the last one unanswered being
 * opened again.
 */
import * as Socket from "@effect/platform/Socket"
import { RpcClient } from "@effect/rpc"
import { RpcClientError } from "@effect/rpc/RpcClientError"
import type { FromClientEncoded, FromServerEncoded, RequestEncoded } from "@effect/rpc/RpcMessage"
import { Cause, Duration, Effect, FiberSet, Schedule, type Scope } from "effect"
import type * as net from "node:net"
import { framedMsgPack } from "./framedMsgPack.js"
import { openRawSocket } from "./rawDial.js"
import type { TlsCredentials } from "./tlsCredentials.js"

export interface ClientProtocolOptions {
  readonly host: string
  readonly port: number
  readonly tls?: TlsCredentials | undefined
  /** Between failed openings (default: from 500 ms, ×1.5 per failure, at most every 5 s). */
  readonly retrySchedule?: Schedule.Schedule<unknown, Socket.SocketError> | undefined
  /** How long an opening may take (default 10 s). */
  readonly openTimeout?: Duration.DurationInput | undefined
}

export interface ClientProtocol {
  readonly protocol: RpcClient.Protocol["Type"]
  /**
   * Sees each message from the server before `RpcClient` (true: it was dealt with). Set once, before the
   * first request.
   */
  readonly setReceiver: (receiver: (message: FromServerEncoded) => boolean) => void
  /**
   * Writes `request` on the caller's fiber when the socket is open, or when it first opens if it never was and
   * `wanted()` still holds then. `refused` is called instead (at once or at the opening) with the connection's
   * failure when it is down, its opening failed, or more than `MAX_UNWRITTEN_BYTES` already wait in the socket:
   * in every case the request was not written.
   */
  readonly writeNow: (request: RequestEncoded, refused: (error: RpcClientError) => void, wanted: () => boolean) => void
}

/** Past this many bytes waiting in Node's buffer (a server that stopped reading), requests are refused. */
export const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024

const PING_INTERVAL = Duration.seconds(10)
const defaultRetrySchedule = Schedule.exponential(500, 1.5).pipe(Schedule.union(Schedule.spaced(5000)))

type Phase =
  | { readonly _tag: "Opening" }
  | { readonly _tag: "Open"; readonly socket: net.Socket }
  | { readonly _tag: "Down"; readonly error: RpcClientError }

const protocolError = (message: string, cause: unknown) =>
  new RpcClientError({ reason: "Protocol", message, cause: cause as never })

/** The protocol, its socket opening in the background for the lifetime of the scope. */
export const makeClientProtocol = (options: ClientProtocolOptions): Effect.Effect<ClientProtocol, never, Scope.Scope> =>
  Effect.gen(function* () {
    const encoder = framedMsgPack.unsafeMake()
    let phase: Phase = { _tag: "Opening" }
    let receiver: ((message: FromServerEncoded) => boolean) | undefined
    /** Called when the socket next opens, or its opening fails. */
    let onOpen: Array<(outcome: net.Socket | RpcClientError) => void> = []
    const runFork = yield* FiberSet.makeRuntime<never, void, never>()
    let toClient: (message: FromServerEncoded) => Effect.Effect<void> = () => Effect.void

    // what the receiver leaves goes on to RpcClient, on a fiber (its handling is an Effect)
    const deliver = (messages: ReadonlyArray<FromServerEncoded>) => {
      const rest = messages.filter((m) => receiver?.(m) !== true)
      if (rest.length > 0) runFork(Effect.forEach(rest, toClient, { discard: true }))
    }

    const opened = (socket: net.Socket) => {
      phase = { _tag: "Open", socket }
      const waiting = onOpen
      onOpen = []
      for (const f of waiting) f(socket)
    }
    const failed = (error: RpcClientError) => {
      phase = { _tag: "Down", error }
      const waiting = onOpen
      onOpen = []
      for (const f of waiting) f(error)
      deliver([{ _tag: "ClientProtocolError", error }])
    }

    /** One connection, from its opening to its failure. */
    const connection: Effect.Effect<never, Socket.SocketError> = Effect.flatMap(
      openRawSocket(options.host, options.port, options.tls).pipe(
        Effect.timeoutFail({
          duration: options.openTimeout ?? "10 seconds",
          onTimeout: () => new Socket.SocketGenericError({ reason: "Open", cause: new Error("Connection timed out") })
        })
      ),
      (socket) =>
        Effect.async<never, Socket.SocketError>((resume) => {
          // a fresh reader per connection: a frame cut by the failure must not run into the next socket's bytes
          const parser = framedMsgPack.unsafeMake()
          let answeredPing = true
          let ended = false
          const end = (error: Socket.SocketError) => {
            if (ended) return
            ended = true
            clearInterval(pinger)
            socket.off("data", onData)
            if (phase._tag === "Open" && phase.socket === socket) phase = { _tag: "Opening" }
            socket.destroy()
            resume(Effect.fail(error))
          }
          const onData = (chunk: Buffer) => {
            let messages: ReadonlyArray<FromServerEncoded>
            try {
              messages = parser.decode(chunk) as ReadonlyArray<FromServerEncoded>
            } catch (defect) {
              deliver([
                { _tag: "ClientProtocolError", error: protocolError("Error decoding message", Cause.fail(defect)) }
              ])
              return
            }
            const rest: Array<FromServerEncoded> = []
            for (const m of messages) {
              if (m._tag === "Pong") answeredPing = true
              else rest.push(m)
            }
            if (rest.length > 0) deliver(rest)
          }
          const pinger = setInterval(() => {
            if (!answeredPing) {
              end(new Socket.SocketGenericError({ reason: "OpenTimeout", cause: new Error("ping timeout") }))
              return
            }
            answeredPing = false
            socket.write(encoder.encode({ _tag: "Ping" }) as Uint8Array)
          }, Duration.toMillis(PING_INTERVAL))
          pinger.unref()
          socket.on("data", onData)
          socket.on("error", (cause) => end(new Socket.SocketGenericError({ reason: "Read", cause })))
          socket.once("close", (hadError) =>
            end(new Socket.SocketCloseError({ reason: "Close", code: hadError ? 1006 : 1000 }))
          )
          opened(socket)
          return Effect.sync(() => {
            clearInterval(pinger)
            if (phase._tag === "Open" && phase.socket === socket) phase = { _tag: "Opening" }
            if (!socket.destroyed) socket.destroySoon()
          })
        })
    )
    /** Writes `bytes`, completing when Node has handed them to the kernel (as RpcClient's sends did). */
    const writeAwaited = (socket: net.Socket, bytes: Uint8Array) =>
      Effect.async<void, RpcClientError>((resume) => {
        socket.write(bytes, (cause) =>
          resume(cause ? Effect.fail(protocolError("Error writing to the socket", cause)) : Effect.void)
        )
      })

    const send = (request: FromClientEncoded): Effect.Effect<void, RpcClientError> =>
      Effect.suspend(() => {
        const bytes = encoder.encode(request) as Uint8Array
        switch (phase._tag) {
          case "Open":
            return writeAwaited(phase.socket, bytes)
          case "Down":
            return Effect.fail(phase.error)
          case "Opening":
            return Effect.flatMap(
              Effect.async<net.Socket, RpcClientError>((resume) => {
                onOpen.push((outcome) =>
                  resume(outcome instanceof RpcClientError ? Effect.fail(outcome) : Effect.succeed(outcome))
                )
              }),
              (socket) => writeAwaited(socket, bytes)
            )
        }
      })

    // NB: made before the socket opens, so a failure of the first opening reaches RpcClient
    const protocol = yield* RpcClient.Protocol.make((writeResponse) => {
      toClient = writeResponse
      return Effect.succeed({ send, supportsAck: true, supportsTransferables: false })
    })

    yield* connection.pipe(
      Effect.tapError((e) => Effect.sync(() => failed(protocolError("Error in socket", e)))),
      Effect.retry(options.retrySchedule ?? defaultRetrySchedule),
      Effect.interruptible,
      Effect.forkScoped
    )

    const writeNow: ClientProtocol["writeNow"] = (request, refused, wanted) => {
      switch (phase._tag) {
        case "Open": {
          const socket = phase.socket
          if (socket.writableLength > MAX_UNWRITTEN_BYTES) {
            refused(protocolError("The server is not reading its socket", undefined))
            return
          }
          socket.write(encoder.encode(request) as Uint8Array)
          return
        }
        case "Down":
          refused(phase.error)
          return
        case "Opening":
          onOpen.push((outcome) => {
            if (outcome instanceof RpcClientError) refused(outcome)
            else if (wanted()) outcome.write(encoder.encode(request) as Uint8Array)
          })
      }
    }

    return {
      protocol,
      setReceiver: (f) => {
        receiver = f
      },
      writeNow
    } satisfies ClientProtocol
  })
