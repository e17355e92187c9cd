/**
 * Fuzzing the wire decoders a connection runs on every byte it receives: the framing, msgpack, and the Schema of
 * each RPC's payload. Whatever arrives, the result is messages or one of the typed refusals, never a crash or a
 * stray exception; and a live server given a sample of the same inputs stays up and writes nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import fc from "fast-check"
import { Packr } from "msgpackr"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { toHex } from "../../src/protocol/bytes.js"
import { TinyKvRpcs } from "../../src/protocol/rpcs.js"
import { SchedulerRpcs } from "../../src/protocol/schedulerRpcs.js"
import { frame, makeFramedMsgPack } from "../../src/rpc/framedMsgPack.js"
import { openRaw } from "../support/rawSocket.js"
import { startStandalone } from "../support/standalone.js"
import { fuzzParams, fuzzRuns, fuzzTimeout } from "./runs.js"

const packr = new Packr({ useRecords: true })

/** What a connection's decode may do with any input. */
const decodeOutcome = (chunks: ReadonlyArray<Uint8Array>): "messages" | "refused" => {
  const parser = makeFramedMsgPack({ maxFrameSize: 64 * 1024 }).unsafeMake()
  try {
    for (const c of chunks) {
      for (const m of parser.decode(c)) {
        assert.isTrue(typeof m === "object" && m !== null && typeof (m as { _tag?: unknown })._tag === "string")
      }
    }
    return "messages"
  } catch (e) {
    const tag = (e as { _tag?: string })._tag
    const message = e instanceof Error ? e.message : String(e)
    assert.isTrue(
      tag === "RpcSerializationError" || /^(undecodable frame|not an RPC message)/.test(message),
      `an untyped failure: ${message}`
    )
    return "refused"
  }
}

const rpcTags = [...TinyKvRpcs.requests.keys(), ...SchedulerRpcs.requests.keys()]
const payloadSchema = (tag: string) =>
  (TinyKvRpcs.requests.get(tag) ?? SchedulerRpcs.requests.get(tag))!.payloadSchema as Schema.Schema<unknown, unknown>

/** A payload that is a mangled version of something plausible: objects with the fields requests have. */
const payload = fc.oneof(
  fc.anything(),
  fc.record(
    {
      key: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string(), fc.constant(null)),
      value: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.integer()),
      cf: fc.constantFrom("default", "lock", "write", "nope", 3),
      limit: fc.oneof(fc.integer(), fc.double()),
      startVersion: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.integer(), fc.string()),
      header: fc.record({ clusterId: fc.oneof(fc.integer(), fc.string()) }),
      messages: fc.array(fc.anything(), { maxLength: 3 })
    },
    { requiredKeys: [] }
  )
)

describe("fuzz: wire decoding", () => {
  it(
    `random bytes and mangled frames: messages or a typed refusal (${fuzzRuns} inputs)`,
    () => {
      const outcomes = { messages: 0, refused: 0 }
      fc.assert(
        fc.property(
          fc.oneof(
            fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }),
            fc.anything().map((v) => [frame(packr.pack(v))]),
            fc.tuple(fc.anything(), fc.nat(), fc.nat(255)).map(([v, at, byte]) => {
              const f = frame(packr.pack({ _tag: "Request", id: "1", tag: "RawGet", payload: v, headers: [] }))
              f[at % f.length] = byte
              return [f]
            }),
            fc.tuple(fc.anything(), fc.nat()).map(([v, cut]) => {
              const f = frame(packr.pack({ _tag: "Request", id: "1", tag: "RawPut", payload: v, headers: [] }))
              return [f.subarray(0, cut % (f.length + 1)), f.subarray(cut % (f.length + 1))]
            })
          ),
          (chunks) => {
            outcomes[decodeOutcome(chunks)]++
          }
        ),
        fuzzParams
      )
      // both paths are exercised, or the generator is broken
      assert.isAbove(outcomes.messages, fuzzRuns / 20)
      assert.isAbove(outcomes.refused, fuzzRuns / 20)
    },
    fuzzTimeout()
  )

  it(
    `every RPC's payload Schema answers any value with a result, never an exception (${fuzzRuns} inputs)`,
    () => {
      let accepted = 0
      fc.assert(
        fc.property(fc.constantFrom(...rpcTags), payload, (tag, value) => {
          const decoded = Schema.decodeUnknownEither(payloadSchema(tag))(value)
          if (Either.isRight(decoded)) accepted++
        }),
        fuzzParams
      )
      assert.isAtMost(accepted, fuzzRuns, "counted")
    },
    fuzzTimeout()
  )

  it.scopedLive("a live store given 300 fuzzed frames stays up, and only the requests it accepted wrote", () =>
    Effect.gen(function* () {
      const { address, port } = yield* startStandalone()
      const inputs = fc.sample(
        fc.oneof(
          fc
            .uint8Array({ minLength: 1, maxLength: 64 })
            .map((b) => ({ tag: "", payload: undefined as unknown, bytes: frame(b) })),
          fc
            .tuple(fc.constantFrom("RawPut", "RawDelete", "KvPrewrite", "KvCommit", "Raft"), payload)
            .map(([tag, p]) => ({
              tag,
              payload: p as unknown,
              bytes: frame(packr.pack({ _tag: "Request", id: "1", tag, payload: p, headers: [] }))
            }))
        ),
        { numRuns: 300, seed: 42 }
      )
      // what the accepted raw writes should have left, per column family
      const expected = new Map<string, Map<string, string>>([
        ["default", new Map()],
        ["lock", new Map()],
        ["write", new Map()]
      ])
      for (const input of inputs) {
        const raw = yield* Effect.promise(() => openRaw(port))
        raw.write(input.bytes)
        // an answer, or the connection closed: either way the server dealt with it
        const answer = (yield* Effect.promise(() => raw.next(5000))) as { exit?: { _tag?: string } } | string
        assert.notStrictEqual(answer, "timeout", "the server neither answered nor closed")
        raw.socket.destroy()
        if (typeof answer === "object" && answer.exit?._tag === "Success") {
          const p = input.payload as { key: Uint8Array; value?: Uint8Array; cf: string }
          const cf = expected.get(p.cf)!
          if (input.tag === "RawPut") cf.set(toHex(p.key), toHex(p.value!))
          else if (input.tag === "RawDelete") cf.delete(toHex(p.key))
        }
      }
      const stored = yield* Effect.flatMap(TinyKvClient, (kv) =>
        Effect.forEach(["default", "lock", "write"], (cf) => kv.rawScan("", { limit: 1000, cf }))
      ).pipe(Effect.provide(TinyKvClient.layer({ store: address })))
      assert.deepStrictEqual(
        stored.map((pairs) => new Map(pairs.map((p) => [toHex(p.key), toHex(p.value)]))),
        [...expected.values()],
        "the store holds exactly what accepted requests wrote"
      )
    })
  )
})
