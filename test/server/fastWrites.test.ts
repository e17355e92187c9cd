/**
 * The writes the fast lane starts at once (`src/server/fastWrites.ts`): a valid `RawPut` is handed to
 * `KvStorage.writeNow` as one put of the raw key space; one `validate.ts` would refuse, or a storage without
 * `writeNow` (a standalone store), is left to the handler (false), which refuses it with its typed error or
 * runs it. Over a replicated store: `test/raftstore/fastWrites.test.ts`; on the wire: `fastLane.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import { MAX_KEY_SIZE, MAX_VALUE_SIZE } from "../../src/protocol/limits.js"
import { makeFastWrites } from "../../src/server/fastWrites.js"
import type { KvStorage, Modify } from "../../src/services/KvStorage.js"

const storageOf = (takes: boolean) => {
  const started: Array<{ space: string; batch: ReadonlyArray<Modify> }> = []
  const storage: KvStorage["Type"] = {
    write: () => Effect.void,
    reader: () => Effect.dieMessage("not read"),
    writeNow: (_context, space, batch, done) => {
      started.push({ space, batch })
      if (takes) done(undefined)
      return takes
    }
  }
  return { storage, started }
}

describe("fast writes", () => {
  it("hands a valid RawPut to writeNow as one raw put, and passes on its answer", () => {
    const { storage, started } = storageOf(true)
    const answers: Array<unknown> = []
    const ok = makeFastWrites(storage).RawPut({ key: utf8("k"), value: utf8("v"), cf: "lock" }, (e) => answers.push(e))
    assert.isTrue(ok)
    assert.deepStrictEqual(started, [
      { space: "raw", batch: [{ _tag: "Put", cf: "lock", key: utf8("k"), value: utf8("v") }] }
    ])
    assert.deepStrictEqual(answers, [undefined])
    assert.isFalse(
      makeFastWrites(storageOf(false).storage).RawPut({ key: utf8("k"), value: utf8("v"), cf: "default" }, () => {}),
      "not taken"
    )
  })

  it("leaves to the handler what validation refuses, and everything when the storage has no writeNow", () => {
    const { storage, started } = storageOf(true)
    const writes = makeFastWrites(storage)
    const never = () => assert.fail("not started, so never answered here")
    assert.isFalse(writes.RawPut({ key: utf8("k"), value: utf8("v"), cf: "nope" }, never), "an unknown column family")
    assert.isFalse(writes.RawPut({ key: new Uint8Array(), value: utf8("v"), cf: "default" }, never), "an empty key")
    assert.isFalse(writes.RawPut({ key: new Uint8Array(MAX_KEY_SIZE + 1), value: utf8("v"), cf: "default" }, never))
    assert.isFalse(writes.RawPut({ key: utf8("k"), value: new Uint8Array(MAX_VALUE_SIZE + 1), cf: "default" }, never))
    assert.strictEqual(started.length, 0, "refused before the storage is asked")
    const { writeNow: _, ...withoutWriteNow } = storage
    assert.isFalse(makeFastWrites(withoutWriteNow).RawPut({ key: utf8("k"), value: utf8("v"), cf: "default" }, never))
  })
})
