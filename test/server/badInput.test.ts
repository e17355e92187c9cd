/**
 * Bad input over raw sockets: garbage, an oversized frame, an unknown RPC, a schema-invalid payload.
 * Each gets an error answer or a closed connection — and the server keeps serving everyone else.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { openRaw } from "../support/rawSocket.js"
import { startStandalone } from "../support/standalone.js"

const request = (id: string, tag: string, payload: unknown) => ({ _tag: "Request", id, tag, payload, headers: [] })

/** A normal client on its own connection still gets answers. */
const stillServes = (address: string, key: string) =>
  Effect.flatMap(TinyKvClient, (kv) =>
    Effect.gen(function* () {
      yield* kv.rawPut(key, "ok")
      assert.strictEqual(fromUtf8((yield* kv.rawGet(key))!), "ok")
    })
  ).pipe(Effect.provide(TinyKvClient.layer({ store: address, timeout: "5 seconds" })))

describe("bad input does not stop the server", () => {
  it.scopedLive("garbage bytes close that connection at once; other clients are unaffected", () =>
    Effect.gen(function* () {
      const { address, port } = yield* startStandalone()
      const raw = yield* Effect.promise(() => openRaw(port))
      // not a frame header: a valid one announces at most 16 MiB, so its first byte is 0x00 or 0x01
      raw.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
      assert.strictEqual(yield* Effect.promise(() => raw.next()), "closed")
      yield* stillServes(address, "after-garbage")
    })
  )

  it.scopedLive("a frame whose bytes are not msgpack gets an error answer and the connection stays usable", () =>
    Effect.gen(function* () {
      const { address, port } = yield* startStandalone()
      const raw = yield* Effect.promise(() => openRaw(port))
      // a well-formed 3-byte frame whose msgpack does not parse
      raw.write(new Uint8Array([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]))
      const answer = (yield* Effect.promise(() => raw.next())) as { _tag?: string; defect?: unknown }
      assert.strictEqual(answer._tag, "Defect")
      assert.include(JSON.stringify(answer.defect), "undecodable frame")
      // the same connection is still in step: a real request on it is answered
      raw.send(request("2", "RawGet", { key: utf8("nothing"), cf: "default" }))
      const reply = (yield* Effect.promise(() => raw.next())) as { _tag?: string; requestId?: string }
      assert.strictEqual(reply._tag, "Exit")
      assert.strictEqual(reply.requestId, "2")
      yield* stillServes(address, "after-bad-frame")
      raw.socket.destroy()
    })
  )

  it.scopedLive("a decodable non-RPC value (a bare number, null) is answered, not crashed on", () =>
    Effect.gen(function* () {
      const { address, port } = yield* startStandalone()
      for (const value of [42, null, "text", [1, 2], { no: "tag" }]) {
        const raw = yield* Effect.promise(() => openRaw(port))
        raw.send(value)
        const answer = (yield* Effect.promise(() => raw.next())) as { _tag?: string } | string
        assert.isTrue(
          answer === "closed" || (typeof answer === "object" && answer !== null && answer._tag === "Defect"),
          `${JSON.stringify(value)} → ${JSON.stringify(answer)}`
        )
        raw.socket.destroy()
      }
      yield* stillServes(address, "after-values")
    })
  )

  it.scopedLive("an oversized frame closes only that connection", () =>
    Effect.gen(function* () {
      const { address, port } = yield* startStandalone()
      const raw = yield* Effect.promise(() => openRaw(port))
      // a frame header announcing 64 MiB, then 17 MiB of it: over the 16 MiB frame limit, refused
      // from the header (the bytes that follow are never buffered or parsed)
      raw.write(new Uint8Array([0x04, 0x00, 0x00, 0x00]))
      const chunk = new Uint8Array(1024 * 1024)
      for (let i = 0; i < 17; i++) raw.write(chunk)
      // a deadline, not a pause: the refusal comes from the header, so this is normally milliseconds
      yield* Effect.promise(() => raw.closed).pipe(
        Effect.timeoutFail({
          duration: "10 seconds",
          onTimeout: () => new Error("the oversized connection was not closed")
        })
      )
      yield* stillServes(address, "after-oversize")
    })
  )

  it.scopedLive("an unknown RPC tag is answered with an error on that request", () =>
    Effect.gen(function* () {
      const { address, port } = yield* startStandalone()
      const raw = yield* Effect.promise(() => openRaw(port))
      raw.send(request("1", "DropAllTables", {}))
      const answer = (yield* Effect.promise(() => raw.next())) as { _tag?: string; defect?: unknown }
      assert.strictEqual(answer._tag, "Defect")
      assert.include(String(answer.defect), "DropAllTables")
      yield* stillServes(address, "after-unknown")
      raw.socket.destroy()
    })
  )

  it.scopedLive("a schema-invalid payload is rejected and nothing is written", () =>
    Effect.gen(function* () {
      const { address, port } = yield* startStandalone()
      const raw = yield* Effect.promise(() => openRaw(port))
      raw.send(request("7", "RawPut", { key: "not-bytes", value: 12, cf: 3 }))
      const answer = (yield* Effect.promise(() => raw.next())) as {
        _tag?: string
        requestId?: string
        exit?: { _tag: string }
      }
      assert.strictEqual(answer._tag, "Exit")
      assert.strictEqual(answer.requestId, "7")
      assert.strictEqual(answer.exit?._tag, "Failure")
      // an empty key is schema-valid but semantically invalid: a typed InvalidArgument
      raw.send(request("8", "RawPut", { key: new Uint8Array(), value: new Uint8Array([1]), cf: "default" }))
      const typed = (yield* Effect.promise(() => raw.next())) as {
        exit?: { _tag: string; cause?: { _tag: string; error?: { _tag: string } } }
      }
      assert.strictEqual(typed.exit?.cause?._tag, "Fail")
      assert.strictEqual(typed.exit?.cause?.error?._tag, "InvalidArgument")
      yield* Effect.flatMap(TinyKvClient, (kv) => kv.rawScan("", { limit: 10 })).pipe(
        Effect.provide(TinyKvClient.layer({ store: address })),
        Effect.map((pairs) => assert.strictEqual(pairs.length, 0))
      )
      yield* stillServes(address, "after-invalid")
      raw.socket.destroy()
    })
  )
})
