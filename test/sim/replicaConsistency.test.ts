/**
 * The simulator's replica comparison: replicas at one applied index must hold the same data. On made-up
 * digests it compares only equal indexes and names the region and stores that differ; on a live cluster
 * it passes replicas that agree and catches one whose engine was changed behind the raftstore's back.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import type { RegionId, StoreId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import { Storage } from "../../src/services/Storage.js"
import { checkReplicas, compareReplicas, type ReplicaDigest } from "../../src/testing/sim/replicaConsistency.js"
import { TestCluster } from "../../src/testing/TestCluster.js"

const digest = (store: number, applied: number, hash: number): ReplicaDigest => ({
  store: store as StoreId,
  region: 7 as RegionId,
  epoch: "2.3",
  range: "..",
  applied,
  hash,
  keys: 4
})

describe("replica consistency", () => {
  it("passes replicas that agree, and names the region and stores of two that differ at one index", () => {
    const same = compareReplicas([digest(1, 20, 99), digest(2, 20, 99), digest(3, 20, 99)])
    assert.deepStrictEqual(same, { violations: [], settled: 1, unsettled: 0, compared: 2 })

    const differ = compareReplicas([digest(1, 20, 99), digest(2, 20, 98)])
    assert.strictEqual(differ.violations.length, 1)
    assert.match(differ.violations[0]!, /region 7 differ at applied index 20: store 1 .*store 2/)
  })

  it("compares only replicas at the same applied index, and counts a region that has others as unsettled", () => {
    const report = compareReplicas([digest(1, 20, 99), digest(2, 21, 98), digest(3, 20, 99)])
    assert.deepStrictEqual(report, { violations: [], settled: 0, unsettled: 1, compared: 1 })
  })

  it.live(
    "on a live cluster: replicas that applied the same writes agree; a key written behind one store's raftstore is caught",
    () =>
      Effect.gen(function* () {
        const cluster = yield* TestCluster.make({ stores: 3, seed: 11 })
        yield* cluster.start
        for (let i = 0; i < 5; i++) yield* cluster.mustPut(`k${i}`, `v${i}`)
        for (const id of cluster.storeIds) yield* cluster.mustEngineHave(id, "k4", "v4")
        const check = checkReplicas(
          cluster.storeIds,
          (id) => cluster.engineSnapshot(id),
          Effect.sleep("50 millis"),
          200
        )

        const agree = yield* check
        assert.deepStrictEqual(agree.violations, [])
        assert.strictEqual(agree.unsettled, 0)
        assert.isAtLeast(agree.compared, 2, "the three replicas of region 1 were compared")

        // a write no Raft entry made: store 2's data now differ at the same applied index
        yield* Effect.flatMap(Storage, (s) =>
          s.write([{ _tag: "Put", space: "default", key: physicalKey("raw", utf8("k2")), value: utf8("stray") }])
        ).pipe(Effect.provide(cluster.storageLayer(2 as StoreId)))
        const differ = yield* check
        assert.strictEqual(differ.violations.length, 1, differ.violations.join("\n"))
        assert.match(differ.violations[0]!, /replicas of region 1 differ at applied index \d+: store 1 .* store 2 /)
      }).pipe(Effect.scoped),
    60_000
  )
})
