/**
 * The raw batch calls, range delete and scan stream over several regions (fake stores over TCP, see
 * `fakeCluster.ts`): one request per region, answers merged in the caller's order, a range deleted
 * region by region, a stream paging across regions.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { makeClusterRouting } from "../../../src/client/cluster/clusterClient.js"
import { fromUtf8 } from "../../../src/protocol/bytes.js"
import { DELETE_RANGE_CHUNK } from "../../../src/protocol/limits.js"
import { fakeScheduler, makeRegion, makeShared, startFakeStore, Topology } from "./fakeCluster.js"

/** Three regions ["", "g"), ["g", "p"), ["p", "") on stores 1-3, led by stores 1, 2 and 3. */
const setup = Effect.gen(function* () {
  const t = new Topology()
  t.setRegion(makeRegion(1, "", "g", [1, 2, 3]), 1)
  t.setRegion(makeRegion(2, "g", "p", [1, 2, 3]), 2)
  t.setRegion(makeRegion(3, "p", "", [1, 2, 3]), 3)
  const shared = yield* makeShared
  for (const id of [1, 2, 3]) yield* startFakeStore(t, id, shared)
  const { raw } = yield* makeClusterRouting(fakeScheduler(t, shared), { scheduler: "fake", timeout: "2 seconds" })
  return { t, kv: raw }
})

const keys = (pairs: ReadonlyArray<{ key: Uint8Array }>) => pairs.map((p) => fromUtf8(p.key))

describe("raw batch calls over three regions", () => {
  it.scopedLive(
    "batchPut sends one request per region; batchGet answers in the order asked, absent keys left out",
    () =>
      Effect.gen(function* () {
        const { t, kv } = yield* setup
        yield* kv.rawBatchPut(["a", "q", "h", "b"].map((k) => ({ key: k, value: `v-${k}` })))
        assert.deepStrictEqual(
          t
            .callsTo("RawBatchPut")
            .map((c): number | undefined => c.context?.regionId)
            .sort(),
          [1, 2, 3]
        )
        const got = yield* kv.rawBatchGet(["q", "zz", "a", "h"])
        assert.deepStrictEqual(
          got.map((p) => `${fromUtf8(p.key)}=${fromUtf8(p.value)}`),
          ["q=v-q", "a=v-a", "h=v-h"]
        )
        yield* kv.rawBatchDelete(["a", "q"])
        assert.deepStrictEqual(keys(yield* kv.rawScan("")), ["b", "h"])
      })
  )

  it.scopedLive("deleteRange deletes across regions, in chunks, and counts what it deleted", () =>
    Effect.gen(function* () {
      const { t, kv } = yield* setup
      // more keys than one request deletes, in the middle region
      const many = Array.from({ length: DELETE_RANGE_CHUNK + 10 }, (_, i) => `h${String(i).padStart(5, "0")}`)
      yield* kv.rawBatchPut([...many, "a", "c", "q", "z"].map((k) => ({ key: k, value: "x" })))
      assert.strictEqual(yield* kv.rawDeleteRange("c", { end: "r" }), many.length + 2)
      assert.deepStrictEqual(keys(yield* kv.rawScan("")), ["a", "z"])
      assert.isAbove(t.callsTo("RawDeleteRange").length, 3)
      assert.strictEqual(yield* kv.rawDeleteRange(""), 2)
      assert.deepStrictEqual(keys(yield* kv.rawScan("")), [])
    })
  )

  it.scopedLive("rawScanStream pages through every region; limit, end and keyOnly apply", () =>
    Effect.gen(function* () {
      const { kv } = yield* setup
      const all = Array.from({ length: 2500 }, (_, i) => `k${String(i).padStart(4, "0")}`)
      yield* kv.rawBatchPut([...all, "a", "z"].map((k) => ({ key: k, value: `v-${k}` })))
      const streamed = Chunk.toReadonlyArray(yield* Stream.runCollect(kv.rawScanStream("")))
      assert.deepStrictEqual(keys(streamed), ["a", ...all, "z"])
      const limited = Chunk.toReadonlyArray(yield* Stream.runCollect(kv.rawScanStream("k1", { end: "k2", limit: 3 })))
      assert.deepStrictEqual(keys(limited), ["k1000", "k1001", "k1002"])
      const keyOnly = Chunk.toReadonlyArray(yield* Stream.runCollect(kv.rawScanStream("y", { keyOnly: true })))
      assert.deepStrictEqual(
        keyOnly.map((p) => [fromUtf8(p.key), p.value.length]),
        [["z", 0]]
      )
    })
  )
})
