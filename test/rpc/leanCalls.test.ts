/**
 * Lean calls (`src/rpc/leanCalls.ts`): a request written with an id of its own, answered by the message that
 * carries that id — whether it comes before or after the caller starts waiting — decoded as `RpcClient`
 * decodes it; a deadline, a connection failure or a server defect ends it; what is not a lean call's answer
 * goes on to `RpcClient`.
 */
import { RpcClientError } from "@effect/rpc/RpcClientError"
import type { FromServerEncoded, RequestEncoded } from "@effect/rpc/RpcMessage"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import { HOT_RAW_CALLS, TinyKvRpcs } from "../../src/protocol/rpcs.js"
import { isUnsent } from "../../src/rpc/errors.js"
import { type LeanCalls, makeLeanCalls } from "../../src/rpc/leanCalls.js"
import { connectStore } from "../../src/rpc/storeConnection.js"
import { eventually } from "../../src/testing/eventually.js"
import { startStandalone } from "../support/standalone.js"

class Late {
  readonly _tag = "Late"
}

/** Lean calls over an open connection whose requests are kept in `sent`; `beforeSend` runs as each is written. */
const harness = (beforeSend: (request: RequestEncoded) => void = () => {}) =>
  Effect.gen(function* () {
    const sent: Array<RequestEncoded> = []
    const lean = yield* makeLeanCalls(TinyKvRpcs, HOT_RAW_CALLS, {
      writeNow: (request) => {
        sent.push(request)
        beforeSend(request)
      }
    })
    return { lean, sent }
  })

const exitOf = (requestId: string, exit: unknown) => ({ _tag: "Exit", requestId, exit }) as FromServerEncoded
const getPayload = { key: utf8("k"), cf: "default" }

describe("lean calls", () => {
  it.scoped("a request goes out with a negative id and its answer is decoded by the success Schema", () =>
    Effect.gen(function* () {
      const { lean, sent } = yield* harness()
      const fiber = yield* Effect.fork(
        lean.call<{ readonly value?: Uint8Array; readonly notFound: boolean }, never, Late>(
          "RawGet",
          getPayload,
          60_000,
          () => new Late()
        )
      )
      yield* eventually(Effect.sync(() => assert.lengthOf(sent, 1)))
      const request = sent[0]!
      assert.strictEqual(request.tag, "RawGet")
      assert.isTrue(String(request.id).startsWith("-"))
      assert.isFalse(lean.receive(exitOf("7", { _tag: "Success", value: {} })), "not a lean id: RpcClient's")
      assert.isTrue(
        lean.receive(exitOf(String(request.id), { _tag: "Success", value: { value: utf8("v"), notFound: false } }))
      )
      const answer = yield* Fiber.join(fiber)
      assert.deepStrictEqual(answer.value, utf8("v"))
    })
  )

  it.scoped("an answer that comes while the request is still being written completes the call", () =>
    Effect.gen(function* () {
      let lean: LeanCalls | undefined
      const h = yield* harness((request) => {
        lean!.receive(exitOf(String(request.id), { _tag: "Success", value: null }))
      })
      lean = h.lean
      const exit = yield* Effect.exit(
        lean.call("RawPut", { key: utf8("k"), value: utf8("v"), cf: "default" }, 60_000, () => new Late())
      )
      assert.isTrue(Exit.isSuccess(exit))
    })
  )

  it.scoped("a typed failure comes back in the error channel; an undecodable answer is a defect", () =>
    Effect.gen(function* () {
      const { lean, sent } = yield* harness()
      const failing = yield* Effect.fork(Effect.flip(lean.call("RawGet", getPayload, 60_000, () => new Late())))
      const garbled = yield* Effect.fork(Effect.exit(lean.call("RawGet", getPayload, 60_000, () => new Late())))
      yield* eventually(Effect.sync(() => assert.lengthOf(sent, 2)))
      const failure = {
        _tag: "Failure",
        cause: { _tag: "Fail", error: { _tag: "InvalidArgument", message: "no" } }
      }
      assert.isTrue(lean.receive(exitOf(String(sent[0]!.id), failure)))
      assert.isTrue(lean.receive(exitOf(String(sent[1]!.id), { _tag: "Success", value: { value: 42 } })))
      const e = (yield* Fiber.join(failing)) as { _tag: string; message: string }
      assert.strictEqual(e._tag, "InvalidArgument")
      assert.strictEqual(e.message, "no")
      const g = yield* Fiber.join(garbled)
      assert.isTrue(Exit.isFailure(g) && g.cause._tag === "Die", "a success the Schema refuses is a defect")
    })
  )

  it.scopedLive("no answer within the deadline: the caller's timeout error, and the late answer is dropped", () =>
    Effect.gen(function* () {
      const { lean, sent } = yield* harness()
      const e = yield* Effect.flip(lean.call("RawGet", getPayload, 20, () => new Late()))
      assert.instanceOf(e, Late)
      assert.isTrue(
        lean.receive(exitOf(String(sent[0]!.id), { _tag: "Success", value: {} })),
        "consumed, not passed on"
      )
    })
  )

  it.scoped("a protocol error ends every pending call with that error, and RpcClient sees it too", () =>
    Effect.gen(function* () {
      const { lean, sent } = yield* harness()
      const calls = yield* Effect.forEach([1, 2], () =>
        Effect.fork(Effect.flip(lean.call("RawGet", getPayload, 60_000, () => new Late())))
      )
      yield* eventually(Effect.sync(() => assert.lengthOf(sent, 2)))
      const error = new RpcClientError({ reason: "Protocol", message: "socket closed" })
      assert.isFalse(lean.receive({ _tag: "ClientProtocolError", error } as FromServerEncoded))
      for (const c of calls) assert.strictEqual(yield* Fiber.join(c), error)
    })
  )

  it.scoped("a request the connection refuses ends its call, marked unsent, and leaves nothing pending", () =>
    Effect.gen(function* () {
      const error = new RpcClientError({ reason: "Protocol", message: "socket down" })
      const lean = yield* makeLeanCalls(TinyKvRpcs, HOT_RAW_CALLS, { writeNow: (_, refused) => refused(error) })
      const e = yield* Effect.flip(lean.call("RawGet", getPayload, 60_000, () => new Late()))
      assert.instanceOf(e, RpcClientError)
      assert.strictEqual((e as RpcClientError).message, "socket down")
      assert.isTrue(isUnsent(e as RpcClientError), "it never left this process: a write may be sent again")
      assert.isTrue(lean.receive(exitOf("-1", { _tag: "Success", value: {} })), "its id is a lean one, dropped")
    })
  )

  it.scopedLive("a request waiting for the socket to open holds no caller past its deadline", () =>
    Effect.gen(function* () {
      // a connection still opening: the requests wait for it, each asking whether it is still wanted
      const waiting: Array<{ request: RequestEncoded; wanted: () => boolean }> = []
      const sent: Array<RequestEncoded> = []
      let open = false
      const lean = yield* makeLeanCalls(TinyKvRpcs, HOT_RAW_CALLS, {
        writeNow: (request, _, wanted) => (open ? sent.push(request) : waiting.push({ request, wanted }))
      })
      const first = yield* Effect.flip(lean.call("RawGet", getPayload, 20, () => new Late()))
      assert.instanceOf(first, Late)
      const second = yield* Effect.fork(lean.call("RawGet", getPayload, 60_000, () => new Late()))
      yield* eventually(Effect.sync(() => assert.lengthOf(waiting, 2)))
      // the socket opens: the request whose caller gave up is not written, the other one is
      open = true
      for (const w of waiting) if (w.wanted()) sent.push(w.request)
      assert.deepStrictEqual(
        sent.map((r) => r.id),
        ["-2"]
      )
      assert.isTrue(lean.receive(exitOf("-2", { _tag: "Success", value: { notFound: true } })))
      const answer = yield* Fiber.join(second)
      assert.isTrue((answer as { notFound: boolean }).notFound)
    })
  )

  it.scopedLive("over a real connection: puts and gets go lean and agree with the store", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone()
      const conn = yield* connectStore(address)
      yield* conn.call("RawPut", (rpc) => rpc.RawPut({ key: utf8("lean"), value: utf8("yes"), cf: "default" }))
      const got = yield* conn.call("RawGet", (rpc) => rpc.RawGet({ key: utf8("lean"), cf: "default" }))
      assert.deepStrictEqual(got.value, utf8("yes"))
      // a request that is not lean still goes through RpcClient on the same connection
      const pairs = yield* conn.call("RawScan", (rpc) => rpc.RawScan({ startKey: utf8(""), limit: 10, cf: "default" }))
      assert.deepStrictEqual(
        pairs.map((p) => p.key),
        [utf8("lean")]
      )
    })
  )
})
