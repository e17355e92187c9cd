/**
 * The client's socket (`src/rpc/clientProtocol.ts`): sends made before the first opening wait for it; each
 * message from the server is offered to the receiver first and the rest reach `RpcClient`; a connection the
 * server closes is reported as a `ClientProtocolError`, every send fails at once while it is down, and it opens
 * again when the server is back; a frame that does not decode is reported; a failed first opening fails what
 * waited for it; a server that stops reading gets its requests refused, not buffered without bound.
 *
 * On the live clock: the protocol's opening timeout and retry schedule run on Effect's clock, and a real socket
 * never advances a `TestClock`.
 */
import { RpcClientError } from "@effect/rpc/RpcClientError"
import type { FromServerEncoded, RequestEncoded } from "@effect/rpc/RpcMessage"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schedule } from "effect"
import * as net from "node:net"
import { type ClientProtocol, MAX_UNWRITTEN_BYTES, makeClientProtocol } from "../../src/rpc/clientProtocol.js"
import { framedMsgPack } from "../../src/rpc/framedMsgPack.js"
import { eventually } from "../../src/testing/eventually.js"

/** A server speaking the framing by hand: what it received, and its connections to answer or close. */
const rawServer = (port = 0) =>
  Effect.acquireRelease(
    Effect.async<{ server: net.Server; port: number; received: Array<unknown>; sockets: Array<net.Socket> }>(
      (resume) => {
        const received: Array<unknown> = []
        const sockets: Array<net.Socket> = []
        const server = net.createServer((socket) => {
          const parser = framedMsgPack.unsafeMake()
          sockets.push(socket)
          socket.on("error", () => {})
          socket.on("data", (chunk) => {
            for (const m of parser.decode(chunk) as ReadonlyArray<unknown>) received.push(m)
          })
        })
        server.listen(port, "127.0.0.1", () =>
          resume(Effect.succeed({ server, port: (server.address() as net.AddressInfo).port, received, sockets }))
        )
      }
    ),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        for (const s of sockets) s.destroy()
        server.close(() => resume(Effect.void))
      })
  )

/** A port nothing listens on. */
const closedPort = Effect.scoped(Effect.map(rawServer(), (s) => s.port))

const request = (id: string, payload: unknown = {}): RequestEncoded => ({
  _tag: "Request",
  id,
  tag: "Probe",
  payload,
  headers: []
})
const exitFor = (requestId: string): FromServerEncoded => ({
  _tag: "Exit",
  requestId,
  exit: { _tag: "Success", value: null }
})
const encodeFrame = (message: unknown) => framedMsgPack.unsafeMake().encode(message) as Uint8Array

/** The protocol to `port`, what reached `RpcClient` kept in `delivered`. */
const client = (port: number, receiver: (m: FromServerEncoded) => boolean = () => false) =>
  Effect.gen(function* () {
    const connection = yield* makeClientProtocol({
      host: "127.0.0.1",
      port,
      retrySchedule: Schedule.spaced("20 millis")
    })
    connection.setReceiver(receiver)
    const delivered: Array<FromServerEncoded> = []
    yield* Effect.forkScoped(connection.protocol.run((m) => Effect.sync(() => delivered.push(m))))
    return { connection, delivered }
  })

/** `writeNow` whose refusal is kept. */
const tryWrite = (connection: ClientProtocol, req: RequestEncoded) => {
  const outcome: { refused?: RpcClientError } = {}
  connection.writeNow(
    req,
    (e) => {
      outcome.refused = e
    },
    () => true
  )
  return outcome
}

const ids = (messages: ReadonlyArray<unknown>) => messages.map((m) => (m as { id?: string }).id)

describe("the client's socket", () => {
  it.scopedLive("sends wait for the first opening; the receiver sees each message first and RpcClient the rest", () =>
    Effect.gen(function* () {
      const server = yield* rawServer()
      const seen: Array<FromServerEncoded> = []
      const { connection, delivered } = yield* client(server.port, (m) => {
        seen.push(m)
        return m._tag === "Exit" && m.requestId === "-1"
      })
      // made at once: the socket is still opening
      yield* connection.protocol.send(request("1"))
      assert.isUndefined(tryWrite(connection, request("-1")).refused)
      yield* eventually(Effect.sync(() => assert.sameMembers(ids(server.received), ["1", "-1"])))

      server.sockets[0]!.write(encodeFrame(exitFor("-1")))
      server.sockets[0]!.write(encodeFrame(exitFor("1")))
      yield* eventually(Effect.sync(() => assert.lengthOf(delivered, 1)))
      assert.deepStrictEqual(delivered[0], exitFor("1"))
      assert.deepStrictEqual(seen, [exitFor("-1"), exitFor("1")])
    })
  )

  it.scopedLive("a closed connection is reported, sends fail at once while it is down, and it opens again", () =>
    Effect.gen(function* () {
      const first = yield* rawServer()
      const port = first.port
      const { connection, delivered } = yield* client(port)
      yield* connection.protocol.send(request("1"))
      yield* eventually(Effect.sync(() => assert.deepStrictEqual(ids(first.received), ["1"])))

      // the server goes away: its listener first, so the client cannot open again
      yield* Effect.async<void>((resume) => {
        first.server.close(() => resume(Effect.void))
        for (const s of first.sockets) s.destroy()
      })
      yield* eventually(
        Effect.sync(() => assert.isTrue(delivered.some((m) => m._tag === "ClientProtocolError"))),
        { what: "the failure reported to RpcClient" }
      )
      const sent = yield* Effect.exit(connection.protocol.send(request("2")))
      assert.isTrue(Exit.isFailure(sent))
      const refused = tryWrite(connection, request("-2")).refused
      assert.instanceOf(refused, RpcClientError)
      assert.strictEqual(refused.reason, "Protocol")

      const second = yield* rawServer(port)
      yield* eventually(
        Effect.sync(() => assert.isUndefined(tryWrite(connection, request("-3")).refused)),
        { what: "the connection opened again" }
      )
      yield* eventually(Effect.sync(() => assert.include(ids(second.received), "-3")))
      assert.notInclude(ids(second.received), "2", "a send that failed is not written later")
    })
  )

  it.scopedLive("a frame that does not decode is reported to RpcClient", () =>
    Effect.gen(function* () {
      const server = yield* rawServer()
      const { connection, delivered } = yield* client(server.port)
      yield* connection.protocol.send(request("1"))
      yield* eventually(Effect.sync(() => assert.lengthOf(server.sockets, 1)))
      // a header announcing one byte, and that byte (0xc1) is never valid msgpack
      server.sockets[0]!.write(new Uint8Array([0, 0, 0, 1, 0xc1]))
      yield* eventually(Effect.sync(() => assert.lengthOf(delivered, 1)))
      const report = delivered[0]!
      assert.strictEqual(report._tag, "ClientProtocolError")
      if (report._tag === "ClientProtocolError") assert.strictEqual(report.error.message, "Error decoding message")
    })
  )

  it.scopedLive("a first opening that fails fails what waited for it", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const { connection } = yield* client(port)
      const waiting: { refused?: RpcClientError } = tryWrite(connection, request("-1"))
      const sent = yield* Effect.exit(connection.protocol.send(request("1")))
      assert.isTrue(Exit.isFailure(sent))
      yield* eventually(Effect.sync(() => assert.instanceOf(waiting.refused, RpcClientError)))
    })
  )

  it.scopedLive("a server that stops reading gets requests refused past the bound", () =>
    Effect.gen(function* () {
      const server = yield* rawServer()
      const { connection } = yield* client(server.port)
      yield* connection.protocol.send(request("1"))
      yield* eventually(Effect.sync(() => assert.lengthOf(server.sockets, 1)))
      server.sockets[0]!.pause()
      const chunk = new Uint8Array(1024 * 1024)
      let refused: RpcClientError | undefined
      let written = 0
      // the kernel's buffers take some megabytes first: the bound is on what waits in Node's own buffer
      for (let i = 0; refused === undefined && i < 200; i++) {
        refused = tryWrite(connection, request(`-${i}`, { chunk })).refused
        if (refused === undefined) written++
      }
      assert.instanceOf(refused, RpcClientError)
      assert.isAtLeast(written, MAX_UNWRITTEN_BYTES / chunk.length)
      assert.strictEqual(refused!.message, "The server is not reading its socket")
    })
  )
})
