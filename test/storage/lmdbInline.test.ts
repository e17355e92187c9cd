/**
 * The lmdb engine as a raftstore opens it (`inlineCommits`: small writes commit on the calling thread, and larger
 * ones too when the caller is idle, such as a follower's round; large ones on lmdb's write thread) passes the same
 * conformance suite, and keeps a mix of them in order.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { commitsInline, layerLmdb } from "../../src/layers/storageLmdb.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { Storage, type WriteOp } from "../../src/services/Storage.js"
import { storageSuite } from "./conformance.js"

storageSuite({
  name: "lmdb with inline commits",
  fresh: () => {
    const dir = mkdtempSync(join(tmpdir(), "tinykv-lmdb-inline-"))
    return { layer: layerLmdb(dir, { inlineCommits: true }), reopen: () => layerLmdb(dir, { inlineCommits: true }) }
  }
})

const put = (key: string, value: string): WriteOp => ({
  _tag: "Put",
  space: "default",
  key: utf8(key),
  value: utf8(value)
})

it.effect("large writes (the write thread) and small ones (inline) land in the order they were made", () => {
  const dir = mkdtempSync(join(tmpdir(), "tinykv-lmdb-inline-"))
  return Effect.gen(function* () {
    const storage = yield* Storage
    // over the inline limit (8 ops): committed on lmdb's write thread
    const large = Array.from({ length: 2000 }, (_, i) => put(`k${String(i).padStart(5, "0")}`, "large"))
    yield* storage.write(large, { sync: true })
    yield* storage.write(
      [put("k00007", "small"), { _tag: "DeleteRange", space: "default", start: utf8("k00100"), end: utf8("k00200") }],
      { sync: true }
    )
    // a follower's round of 20 entries: inline, as the caller is idle
    const round = Array.from({ length: 20 }, (_, i) => put(`k${String(i * 10).padStart(5, "0")}`, "idle"))
    yield* storage.write(round, { sync: true, idle: true })
    yield* storage.write(large.slice(0, 5).concat(Array.from({ length: 1500 }, (_, i) => put(`z${i}`, "v"))), {
      sync: true,
      idle: true
    })
    assert.deepStrictEqual(storage.latest.get("default", utf8("k00010")), Buffer.from("idle"))
    assert.deepStrictEqual(storage.latest.get("default", utf8("k00011")), Buffer.from("large"))
    assert.deepStrictEqual(storage.latest.get("default", utf8("k00007")), Buffer.from("small"))
    assert.deepStrictEqual(storage.latest.get("default", utf8("k00003")), Buffer.from("large"))
    assert.isUndefined(storage.latest.get("default", utf8("k00155")))
    const all = yield* storage.scan("default", { start: utf8("k"), end: utf8("l") })
    // 2,000 put, 100 deleted by the range, 10 of those put again by the idle round
    assert.strictEqual(all.length, 1910)
  }).pipe(Effect.provide(layerLmdb(dir, { inlineCommits: true })))
})

it("which writes commit inline: small ones; up to 1,024 ops from an idle caller; never over 64 KiB", () => {
  const ops = (n: number, valueBytes = 1) =>
    Array.from(
      { length: n },
      (_, i): WriteOp => ({
        _tag: "Put",
        space: "default",
        key: utf8(`k${i}`),
        value: new Uint8Array(valueBytes)
      })
    )
  assert.isTrue(commitsInline(ops(8), false))
  assert.isFalse(commitsInline(ops(9), false))
  assert.isTrue(commitsInline(ops(20), true))
  assert.isTrue(commitsInline(ops(1024), true))
  assert.isFalse(commitsInline(ops(1025), true))
  // a catch-up append of large entries goes to the write thread, idle or not
  assert.isFalse(commitsInline(ops(2, 40 * 1024), true))
  assert.isFalse(commitsInline(ops(2, 40 * 1024), false))
})
