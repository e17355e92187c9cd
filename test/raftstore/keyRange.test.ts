/**
 * Region bounds are user keys; the engine holds keys of two key spaces, and MVCC keys in the transactional
 * `default`/`write` CFs (`protocol/keyspace.ts`). Two regions split at `"0 00000150"`: the user key
 * `"0 00000123"` lies left of it, but its memcomparable encoding (a marker byte after the first 8 bytes)
 * sorts above the raw bound. Every range operation of the raftstore must still give each key to its region:
 * the region checks, a snapshot's key set, and the range clear of a destroyed peer or an installed snapshot.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import { compareBytes, inRange, toHex, utf8 } from "../../src/protocol/bytes.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import {
  inKeyRange,
  type KeySpace,
  localRange,
  physicalKey,
  physicalRanges,
  userKeyOf
} from "../../src/protocol/keyspace.js"
import type { Region } from "../../src/protocol/metapb.js"
import { SnapshotDataCodec } from "../../src/raftstore/codec.js"
import { clearRangeOps, PeerStorage } from "../../src/raftstore/peerStorage.js"
import { checkRequestInRegion } from "../../src/raftstore/regionUtil.js"
import { CFS } from "../../src/services/Storage.js"
import { encodeKey } from "../../src/transaction/mvccKey.js"

const BOUND = utf8("0 00000150")
const BELOW = utf8("0 00000123") // left region; its MVCC keys sort above BOUND
const ABOVE = utf8("0 00000151") // right region

const region = (id: number, start: Uint8Array, end: Uint8Array): Region => ({
  id: id as RegionId,
  startKey: start,
  endKey: end,
  regionEpoch: { confVer: 1, version: 1 },
  peers: [{ id: id as PeerId, storeId: 1 as StoreId }]
})
const LEFT = region(1, new Uint8Array(), BOUND)
const RIGHT = region(2, BOUND, new Uint8Array())

/** Every engine key a user key may have: each CF of the raw space, the lock and two MVCC versions. */
const engineKeys = (user: Uint8Array) => [
  ...CFS.map((cf) => ({ cf, key: physicalKey("raw", user) })),
  { cf: "lock" as const, key: physicalKey("txn", user) },
  { cf: "default" as const, key: physicalKey("txn", encodeKey(user, 10n)) },
  { cf: "write" as const, key: physicalKey("txn", encodeKey(user, 12n)) },
  { cf: "write" as const, key: physicalKey("txn", encodeKey(user, 0n)) }
]
const show = (kvs: ReadonlyArray<{ cf: string; key: Uint8Array }>) =>
  kvs.map((kv) => `${kv.cf}:${toHex(kv.key)}`).sort()

const engineWith = (...users: ReadonlyArray<Uint8Array>) => {
  const engine = new MemoryEngine()
  engine.write(
    users.flatMap((u) => engineKeys(u).map(({ cf, key }) => ({ _tag: "Put" as const, space: cf, key, value: u })))
  )
  return engine
}
const everything = (engine: MemoryEngine) =>
  CFS.flatMap((cf) => Array.from(engine.scan(cf)).map((kv) => ({ cf, key: kv.key })))

describe("region bounds over engine keys", () => {
  it("clearRangeOps of the left region clears its keys in every CF and key space, none of the right's", () => {
    const engine = engineWith(BELOW, ABOVE, BOUND)
    engine.write(clearRangeOps(LEFT))
    assert.deepStrictEqual(show(everything(engine)), show([...engineKeys(ABOVE), ...engineKeys(BOUND)]))
    engine.write(clearRangeOps(RIGHT))
    assert.deepStrictEqual(everything(engine), [])
  })

  it("a snapshot of each region holds exactly its keys", () => {
    const engine = engineWith(BELOW, ABOVE, BOUND)
    for (const [r, users] of [
      [LEFT, [BELOW]],
      [RIGHT, [ABOVE, BOUND]]
    ] as const) {
      const { storage } = PeerStorage.load(engine, r)
      const data = SnapshotDataCodec.decode(storage.snapshot().data).data
      assert.deepStrictEqual(show(data), show(users.flatMap(engineKeys)), `region ${r.id}`)
    }
  })

  it("the region check at propose and apply takes MVCC keys to the region of their user key", () => {
    const requests = (user: Uint8Array) => [
      { cf: "default", key: user },
      { cf: "lock", key: user, space: "txn" as const },
      { cf: "default", key: encodeKey(user, 10n), space: "txn" as const },
      { cf: "write", key: encodeKey(user, 12n), space: "txn" as const }
    ]
    for (const r of requests(BELOW)) {
      assert.isUndefined(checkRequestInRegion(r, LEFT), `${r.cf} ${r.space ?? "raw"}`)
      const e = checkRequestInRegion(r, RIGHT)
      assert.strictEqual(e?._tag, "KeyNotInRegion")
      assert.deepStrictEqual(e?.key, BELOW, "the error names the user key")
    }
    for (const r of requests(ABOVE)) {
      assert.isDefined(checkRequestInRegion(r, LEFT))
      assert.isUndefined(checkRequestInRegion(r, RIGHT))
    }
  })

  it("physicalRanges cover every CF of both key spaces and never overlap", () => {
    const ranges = physicalRanges(LEFT)
    assert.strictEqual(ranges.length, 6)
    for (const a of ranges) {
      assert.isAbove(a.end.length, 0, "a physical range is always bounded by its key space")
      for (const b of ranges) {
        if (a === b || a.cf !== b.cf) continue
        assert.isTrue(compareBytes(a.end, b.start) <= 0 || compareBytes(b.end, a.start) <= 0)
      }
    }
  })

  it("a space-local key is in a region's local range exactly when its user key is in the region", () => {
    const key = fc.uint8Array({ maxLength: 20 })
    fc.assert(
      fc.property(
        key,
        key,
        key,
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.constantFrom<[KeySpace, string]>(["raw", "default"], ["txn", "lock"], ["txn", "default"], ["txn", "write"]),
        (user, a, b, ts, [space, cf]) => {
          const [start, end] = compareBytes(a, b) <= 0 ? [a, b] : [b, a]
          const local = space === "txn" && cf !== "lock" ? encodeKey(user, ts) : user
          const bounds = { startKey: start, endKey: end }
          assert.strictEqual(inKeyRange(local, localRange(bounds, space, cf)), inRange(user, start, end))
          assert.deepStrictEqual(userKeyOf(local, space, cf), user)
        }
      ),
      { numRuns: 2000 }
    )
  })
})
