/**
 * The server's socket (`src/server/serverProtocol.ts`), driven directly: the messages of one chunk are handled
 * in order even when one of them needs an Effect run; a client that half-closes its socket ends its connection;
 * a client that leaves its answers unread is disconnected instead of buffered without bound.
 */
import type { FromClientEncoded, FromServerEncoded } from "@effect/rpc/RpcMessage"
import { SocketServer } from "@effect/platform/SocketServer"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { frame, layerFramedMsgPack } from "../../src/rpc/framedMsgPack.js"
import { layerTcpSocketServer } from "../../src/server/tcpSocketServer.js"
import { makeServerProtocol, MAX_UNREAD_REPLY_BYTES, type ServerProtocol } from "../../src/server/serverProtocol.js"
import { Packr } from "msgpackr"
import { openRaw } from "../support/rawSocket.js"

const packr = new Packr({ useRecords: true })
const request = (id: string, tag: string) => ({ _tag: "Request", id, tag, payload: null, headers: [] })
const success = (requestId: string, value: unknown): FromServerEncoded =>
  ({ _tag: "Exit", requestId, exit: { _tag: "Success", value } }) as FromServerEncoded

/**
 * The protocol on a free port, its requests handled by `handle`; returns the port and the protocol.
 * NB: `Protocol.run` is what RpcServer would call; here the test is the server.
 */
const serve = (
  handle: (protocol: ServerProtocol, clientId: number, message: FromClientEncoded) => Effect.Effect<void>
) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      Layer.merge(layerTcpSocketServer({ host: "127.0.0.1", port: 0 }), layerFramedMsgPack)
    )
    const protocol = yield* Effect.provide(makeServerProtocol, context)
    yield* Effect.forkScoped(protocol.run((clientId, message) => handle(protocol, clientId, message)))
    const address = (yield* Effect.provide(SocketServer, context)).address
    if (address._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
    return { port: address.port, protocol }
  })

describe("the server's socket", () => {
  it.scopedLive("the messages of one chunk are handled in order, also after one that needs an Effect", () =>
    Effect.gen(function* () {
      const { port } = yield* serve((protocol, clientId, message) => {
        if (message._tag !== "Request") return Effect.void
        const id = String(message.id)
        // "now" is answered on the socket's callback; "later" only once its Effect runs
        if (message.tag === "now") {
          protocol.sendNow(clientId, success(id, "now"))
          return Effect.void
        }
        return Effect.zipRight(Effect.yieldNow(), protocol.send(clientId, success(id, "later")))
      })
      const raw = yield* Effect.promise(() => openRaw(port))
      const frames = [request("1", "now"), request("2", "later"), request("3", "now"), request("4", "later")].map((m) =>
        frame(packr.pack(m))
      )
      raw.write(Buffer.concat(frames))
      const answers: Array<unknown> = []
      for (let i = 0; i < 4; i++) answers.push(yield* Effect.promise(() => raw.next()))
      assert.deepStrictEqual(
        answers.map((a) => (a as { requestId: string }).requestId),
        ["1", "2", "3", "4"]
      )
      raw.socket.destroy()
    })
  )

  it.scopedLive("a client that half-closes its socket ends its connection", () =>
    Effect.gen(function* () {
      const { port, protocol } = yield* serve(() => Effect.void)
      const raw = yield* Effect.promise(() => openRaw(port))
      raw.socket.end()
      const gone = yield* protocol.disconnects.take
      assert.isNumber(gone)
      assert.strictEqual(yield* Effect.promise(() => raw.next()), "closed")
    })
  )

  it.scopedLive("a client that leaves its answers unread is disconnected", () =>
    Effect.gen(function* () {
      const big = new Uint8Array(8 * 1024 * 1024)
      const { port, protocol } = yield* serve((protocol, clientId, message) => {
        if (message._tag === "Request") protocol.sendNow(clientId, success(String(message.id), big))
        return Effect.void
      })
      const raw = yield* Effect.promise(() => openRaw(port))
      raw.socket.pause()
      const count = (2 * MAX_UNREAD_REPLY_BYTES) / big.length
      for (let i = 0; i < count; i++) raw.send(request(String(i), "big"))
      const gone = yield* protocol.disconnects.take
      assert.isNumber(gone)
      assert.isFalse(raw.socket.destroyed, "the server ended it, not the client")
      raw.socket.destroy()
    })
  )
})
