/**
 * The reads the fast lane answers at once (`src/server/fastReads.ts`): a `RawGet` the storage can take in one
 * synchronous call is answered from it; one it cannot take, or one `validate.ts` would refuse, is left to the
 * handler (undefined), which answers it or gives the typed refusal. What goes over the wire is the fast lane's
 * test (`fastLane.test.ts`: the answers are what `RpcServer` sends).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import { MAX_KEY_SIZE } from "../../src/protocol/limits.js"
import { makeFastReads } from "../../src/server/fastReads.js"
import type { KvReader, KvStorage } from "../../src/services/KvStorage.js"

/** A storage whose synchronous reads see `data` (default CF) when `takes` says so, counting them. */
const storageOf = (data: Map<string, string>, takes: () => boolean) => {
  const calls = { readNow: 0 }
  const reader: KvReader = {
    getCF: (cf, key) => {
      const v = cf === "default" ? data.get(new TextDecoder().decode(key)) : undefined
      return v === undefined ? undefined : utf8(v)
    },
    iterCF: () => [][Symbol.iterator]()
  }
  const storage: KvStorage["Type"] = {
    write: () => Effect.void,
    reader: () => Effect.succeed(reader),
    readNow: (_context, _space, f) => {
      calls.readNow++
      return takes() ? { value: f(reader) } : undefined
    }
  }
  return { storage, calls }
}

describe("fast reads", () => {
  it("answers a RawGet the storage takes at once, found or not", () => {
    const { storage, calls } = storageOf(new Map([["k", "v"]]), () => true)
    const reads = makeFastReads(storage)
    assert.deepStrictEqual(reads.RawGet({ key: utf8("k"), cf: "default" }), { value: utf8("v"), notFound: false })
    assert.deepStrictEqual(reads.RawGet({ key: utf8("absent"), cf: "default" }), { notFound: true })
    assert.strictEqual(calls.readNow, 2)
  })

  it("leaves to the handler what the storage cannot take at once, or what validation refuses", () => {
    let takes = false
    const { storage, calls } = storageOf(new Map([["k", "v"]]), () => takes)
    const reads = makeFastReads(storage)
    assert.isUndefined(reads.RawGet({ key: utf8("k"), cf: "default" }), "not a local read")
    assert.strictEqual(calls.readNow, 1)
    takes = true
    assert.isUndefined(reads.RawGet({ key: utf8("k"), cf: "nope" }), "an unknown column family")
    assert.isUndefined(reads.RawGet({ key: new Uint8Array(), cf: "default" }), "an empty key")
    assert.isUndefined(reads.RawGet({ key: new Uint8Array(MAX_KEY_SIZE + 1), cf: "default" }), "an oversized key")
    assert.strictEqual(calls.readNow, 1, "refused before the storage is asked")
    const { readNow: _, ...withoutReadNow } = storage
    assert.isUndefined(makeFastReads(withoutReadNow).RawGet({ key: utf8("k"), cf: "default" }), "no readNow")
  })
})
