/** The standalone store over TCP through the typed client and the Promise facade. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect } from "../../src/client/promise.js"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import { startStandalone } from "../support/standalone.js"

const withClient = <A, E>(f: (c: TinyKvClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const { address } = yield* startStandalone()
    return yield* Effect.flatMap(TinyKvClient, f).pipe(Effect.provide(TinyKvClient.layer({ store: address })))
  })

describe("standalone store over TCP", () => {
  it.scopedLive("put, get, delete and scan round-trip through the typed client", () =>
    withClient((kv) =>
      Effect.gen(function* () {
        yield* kv.rawPut("hello", "world")
        assert.strictEqual(fromUtf8((yield* kv.rawGet("hello"))!), "world")
        yield* kv.rawPut("hello", "again", { cf: "write" })
        assert.strictEqual(fromUtf8((yield* kv.rawGet("hello"))!), "world")
        assert.strictEqual(fromUtf8((yield* kv.rawGet("hello", { cf: "write" }))!), "again")
        yield* kv.rawDelete("hello")
        assert.isUndefined(yield* kv.rawGet("hello"))
        for (const k of ["a1", "a2", "a3", "b1"]) yield* kv.rawPut(k, k.toUpperCase())
        const pairs = yield* kv.rawScan("a", { end: "b", limit: 10 })
        assert.deepStrictEqual(
          pairs.map((p) => [fromUtf8(p.key), fromUtf8(p.value)]),
          [
            ["a1", "A1"],
            ["a2", "A2"],
            ["a3", "A3"]
          ]
        )
        assert.strictEqual((yield* kv.rawScan("a", { limit: 2 })).length, 2)
      })
    )
  )

  it.scopedLive("a scan longer than one server page is paged by the client", () =>
    withClient((kv) =>
      Effect.gen(function* () {
        const value = new Uint8Array(64 * 1024).fill(7)
        // 80 × 64 KiB = 5 MiB > the 4 MiB page budget
        yield* Effect.forEach(
          Array.from({ length: 80 }, (_, i) => `k${String(i).padStart(3, "0")}`),
          (k) => kv.rawPut(k, value),
          { concurrency: 8 }
        )
        const pairs = yield* kv.rawScan("k", { limit: 1000 })
        assert.strictEqual(pairs.length, 80)
        assert.strictEqual(fromUtf8(pairs[79]!.key), "k079")
      })
    )
  )

  it.scopedLive("bad requests come back as typed InvalidArgument errors", () =>
    withClient((kv) =>
      Effect.gen(function* () {
        const empty = yield* Effect.flip(kv.rawPut("", "x"))
        assert.strictEqual(empty._tag, "InvalidArgument")
        const cf = yield* Effect.flip(kv.rawGet("k", { cf: "nope" }))
        assert.strictEqual(cf._tag, "InvalidArgument")
        // and the connection keeps working
        yield* kv.rawPut("still", "fine")
        assert.strictEqual(fromUtf8((yield* kv.rawGet("still"))!), "fine")
      })
    )
  )

  it.scopedLive("a store that is down fails fast with StoreUnavailable", () =>
    Effect.gen(function* () {
      const { address } = yield* Effect.scoped(startStandalone())
      // the scope above closed: nothing listens on that port any more
      const error = yield* Effect.flip(
        Effect.flatMap(TinyKvClient, (kv) => kv.rawGet("k")).pipe(
          Effect.provide(TinyKvClient.layer({ store: address, timeout: "3 seconds" }))
        )
      )
      assert.strictEqual(error._tag, "StoreUnavailable")
    })
  )

  it.scopedLive("the Promise facade connects, writes, reads and closes", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone()
      yield* Effect.promise(async () => {
        const kv = await connect({ store: address })
        await kv.put("k", "v")
        assert.strictEqual(await kv.getString("k"), "v")
        assert.isUndefined(await kv.get("missing"))
        const err = await kv.put("", "v").then(
          () => undefined,
          (e: { _tag: string }) => e
        )
        assert.strictEqual(err?._tag, "InvalidArgument")
        await kv.close()
      })
    })
  )
})
