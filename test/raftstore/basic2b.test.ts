/**
 * TinyKV 2B basics (reference §4.3): replication with one and many clients, an unreliable network,
 * and TestOnePartition2B — a minority partition serves nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { genericTest, testSeed } from "./generic.js"
import { REGION_1, sendTo, waitLeader } from "./helpers.js"

describe("raftstore 2B", () => {
  it.live("TestBasic2B", () => genericTest({ clients: 1 }), 60_000)
  it.live("TestConcurrent2B", () => genericTest({ clients: 5 }), 60_000)
  it.live("TestUnreliable2B", () => genericTest({ clients: 5, unreliable: true }), 60_000)

  it.live(
    "TestOnePartition2B",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 5, seed })
        yield* cluster.start
        const leader = yield* waitLeader(cluster)
        const region = (yield* cluster.getRegion(new Uint8Array())).region
        let s1: Array<StoreId> = [leader.storeId]
        const s2: Array<StoreId> = []
        for (const p of region.peers) {
          if (p.id === leader.id) continue
          if (s1.length < 3) s1.push(p.storeId)
          else s2.push(p.storeId)
        }

        // the leader is in the majority: the partition does not stop writes or reads
        yield* cluster.partition(s1, s2)
        yield* cluster.mustPut("k1", "v1")
        const v1 = yield* cluster.get("k1")
        assert.strictEqual(v1 && fromUtf8(v1), "v1", `seed ${seed}`)
        for (const id of s2) yield* cluster.mustEngineHave(id, "k1", undefined)
        yield* Effect.sleep("300 millis")
        for (const id of s2) yield* cluster.mustEngineHave(id, "k1", undefined)
        yield* cluster.clearFilters

        // the old leader is in the minority now: a new leader is elected on the other side
        s2.push(s1[2]!)
        s1 = s1.slice(0, 2)
        yield* cluster.partition(s1, s2)
        // the old leader (and its one follower) must not commit anything: a write sent to it is never acknowledged
        const minorityWrite = yield* Effect.either(
          sendTo(cluster, leader, [{ _tag: "Put", cf: "default", key: utf8("k1"), value: utf8("minority") }], 1_500)
        )
        if (Either.isRight(minorityWrite)) {
          assert.isDefined(minorityWrite.right.header.error, `seed ${seed}: the minority acknowledged a write`)
        }
        const read = yield* cluster.get("k1")
        assert.strictEqual(read && fromUtf8(read), "v1", `seed ${seed}`)
        yield* cluster.mustPut("k1", "changed")
        const newLeader = yield* waitLeader(cluster, REGION_1, s2)
        assert.include(s2, newLeader.storeId)
        for (const id of s1) yield* cluster.mustEngineHave(id, "k1", "v1")
        yield* Effect.sleep("300 millis")
        for (const id of s1) yield* cluster.mustEngineHave(id, "k1", "v1")
        yield* cluster.clearFilters

        // healed: the old minority catches up
        yield* cluster.mustPut("k2", "v2")
        yield* cluster.mustEngineHave(s1[0]!, "k2", "v2")
        yield* cluster.mustEngineHave(s1[0]!, "k1", "changed")
        yield* cluster.mustEngineHave(s1[1]!, "k1", "changed")
      }).pipe(Effect.scoped),
    60_000
  )
})
