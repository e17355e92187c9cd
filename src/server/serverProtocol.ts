/**
 * The server end of every store and scheduler connection: @effect/rpc's server `Protocol` over the bare Node
 * sockets the listener accepts (`connectionHandoff.ts` gives each one to `SocketServer.run` with its
 * `NodeSocket.NetSocket`), with the framing of the `RpcSerialization` in context (`serve.ts`).
 *
 * Why not `RpcServer.makeProtocolSocketServer` over @effect/platform's `Socket`: that forks a fiber for every
 * chunk a connection reads and writes each answer as an Effect that waits for the socket's callback. The
 * store's fast lane (`fastLane.ts`) serves its calls as their messages are read, and the `RaftIntake` takes the
 * one-way Raft batches earlier still: a chunk whose every message was dealt with that way needs no fiber at
 * all. Here each decoded message goes to `RpcServer` (or the fast lane around it) on the socket's own callback;
 * only from the first message whose handling is an Effect still to run does the rest of the chunk go to a fiber,
 * in order, as before. Answers are written at once. Measured in docs/PERFORMANCE.md, "The server's socket".
 *
 * Kept from `makeProtocolSocketServer`: a frame over the size limit closes that connection; a chunk that does
 * not decode is answered with a `Defect`; a client that half-closes its socket ends the connection; each
 * connection's end is offered to `disconnects`. Added: a client that leaves more than `MAX_UNREAD_REPLY_BYTES`
 * of answers unread is disconnected, where the platform's writes would have buffered them without bound.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as SocketServer from "@effect/platform/SocketServer"
import { RpcSerialization, RpcServer } from "@effect/rpc"
import { type FromClientEncoded, type FromServerEncoded, ResponseDefectEncoded } from "@effect/rpc/RpcMessage"
import { Effect, FiberSet, Mailbox, Option, Predicate, type Scope } from "effect"
import type * as net from "node:net"

/** Past this many bytes of answers waiting in a connection's buffer (its client stopped reading), it is closed. */
export const MAX_UNREAD_REPLY_BYTES = 64 * 1024 * 1024

export type ServerProtocol = RpcServer.Protocol["Type"] & {
  /**
   * `send` done at once, for an answer that is no rejection (the fast lane's successes, `fastLane.ts`):
   * `serve.ts` logs the rejections `send` carries, and this bypasses it.
   */
  readonly sendNow: (clientId: number, response: FromServerEncoded) => void
}

/** The protocol, serving every connection of the `SocketServer` for the lifetime of the scope. */
export const makeServerProtocol: Effect.Effect<
  ServerProtocol,
  never,
  SocketServer.SocketServer | RpcSerialization.RpcSerialization | Scope.Scope
> = Effect.gen(function* () {
  const server = yield* SocketServer.SocketServer
  const serialization = yield* RpcSerialization.RpcSerialization
  const disconnects = yield* Mailbox.make<number>()
  let nextId = 0
  const writers = new Map<number, (response: FromServerEncoded) => void>()
  const clientIds = new Set<number>()
  let writeRequest!: (clientId: number, message: FromClientEncoded) => Effect.Effect<void>

  const serveConnection = Effect.gen(function* () {
    const found = yield* Effect.serviceOption(NodeSocket.NetSocket)
    if (Option.isNone(found)) {
      return yield* Effect.dieMessage(
        "serverProtocol: the SocketServer gave no NodeSocket.NetSocket (connectionHandoff.ts)"
      )
    }
    const socket: net.Socket = found.value
    const id = nextId++
    const parser = serialization.unsafeMake()
    const runFork = yield* FiberSet.makeRuntime<never, void, never>()
    const warn = (message: string) => runFork(Effect.logWarning(message))

    const write = (response: FromServerEncoded) => {
      if (socket.destroyed) return
      if (socket.writableLength > MAX_UNREAD_REPLY_BYTES) {
        warn(`closed the connection of client ${id}: more than ${MAX_UNREAD_REPLY_BYTES} bytes of answers unread`)
        socket.destroy()
        return
      }
      let bytes: Uint8Array | string | undefined
      try {
        bytes = parser.encode(response)
      } catch (cause) {
        bytes = parser.encode(ResponseDefectEncoded(cause))
      }
      if (bytes !== undefined) socket.write(bytes)
    }
    clientIds.add(id)
    writers.set(id, write)
    yield* Effect.addFinalizer(() => {
      clientIds.delete(id)
      writers.delete(id)
      if (!socket.destroyed) socket.destroySoon()
      return disconnects.offer(id)
    })

    /** The messages from `from` on, each handed over once the one before it has been dealt with. */
    const deliver = (messages: ReadonlyArray<FromClientEncoded>, from: number) => {
      for (let i = from; i < messages.length; i++) {
        const handling = writeRequest(id, messages[i]!)
        if (handling === Effect.void) continue
        const rest = i + 1
        runFork(
          rest === messages.length
            ? handling
            : Effect.zipRight(
                handling,
                Effect.forEach(messages.slice(rest), (m) => writeRequest(id, m), { discard: true })
              )
        )
        return
      }
    }

    yield* Effect.async<void>((resume) => {
      const onData = (chunk: Uint8Array) => {
        let messages: ReadonlyArray<FromClientEncoded>
        try {
          messages = parser.decode(chunk) as ReadonlyArray<FromClientEncoded>
        } catch (cause) {
          // an oversized frame: the connection cannot find its next frame, close it (as the platform did)
          if (Predicate.isTagged(cause, "RpcSerializationError")) {
            socket.destroy()
            return
          }
          write(ResponseDefectEncoded(cause))
          return
        }
        if (messages.length > 0) deliver(messages, 0)
      }
      let ended = false
      const done = () => {
        if (ended) return
        ended = true
        resume(Effect.void)
      }
      socket.on("data", onData)
      socket.on("end", done)
      socket.on("error", done)
      socket.on("close", done)
      return Effect.sync(() => {
        socket.off("data", onData)
        socket.off("end", done)
        socket.off("error", done)
        socket.off("close", done)
      })
    })
  })

  const protocol = yield* RpcServer.Protocol.make((writeRequest_) => {
    writeRequest = writeRequest_
    return Effect.succeed({
      disconnects,
      send: (clientId: number, response: FromServerEncoded) => Effect.sync(() => writers.get(clientId)?.(response)),
      end: (_clientId: number) => Effect.void,
      clientIds: Effect.sync(() => clientIds),
      initialMessage: Effect.succeedNone,
      supportsAck: true,
      supportsTransferables: false,
      supportsSpanPropagation: true
    })
  })

  yield* server.run(() => Effect.scoped(serveConnection)).pipe(Effect.interruptible, Effect.forkScoped)
  const sendNow = (clientId: number, response: FromServerEncoded) => writers.get(clientId)?.(response)
  return { ...protocol, sendNow }
})
