/**
 * TinyKV 3B: leader transfer and membership changes through the Raft log, driven by
 * scheduler operators as TinyKV's harness drives them (`src/testing/clusterAdmin.ts`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PeerId, StoreId } from "../../src/protocol/ids.js"
import type { Peer } from "../../src/protocol/metapb.js"
import { mustAddPeer, mustRemovePeer, mustTransferLeader, schedulerRegion } from "../../src/testing/clusterAdmin.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { REGION_1, waitLeader } from "./helpers.js"

/** TinyKV `NewPeer(storeId, peerId)`. */
const peer = (storeId: number, id: number): Peer => ({ id: id as PeerId, storeId: storeId as StoreId })
const s = (id: number) => id as StoreId

const fiveStores = Effect.gen(function* () {
  const cluster = yield* TestCluster.make({ stores: 5, seed: testSeed() })
  yield* cluster.start
  return cluster
})

describe("raftstore 3B conf change", () => {
  it.live(
    "TestTransferLeader3B",
    () =>
      Effect.gen(function* () {
        const cluster = yield* fiveStores
        for (const id of [1, 2, 3, 4, 5]) yield* mustTransferLeader(cluster, REGION_1, peer(id, id))
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "TestBasicConfChange3B",
    () =>
      Effect.gen(function* () {
        const cluster = yield* fiveStores
        yield* mustTransferLeader(cluster, REGION_1, peer(1, 1))
        for (const id of [2, 3, 4, 5]) yield* mustRemovePeer(cluster, REGION_1, peer(id, id))

        // now region 1 only has peer (1, 1)
        yield* cluster.mustPut("k1", "v1")
        yield* cluster.mustEngineHave(s(2), "k1", undefined)

        yield* mustAddPeer(cluster, REGION_1, peer(2, 2))
        yield* cluster.mustPut("k2", "v2")
        yield* cluster.mustGet("k2", "v2")
        yield* cluster.mustEngineHave(s(2), "k1", "v1")
        yield* cluster.mustEngineHave(s(2), "k2", "v2")

        const region = yield* schedulerRegion(cluster, REGION_1)
        assert.isAbove(region?.regionEpoch.confVer ?? 0, 1)
        // store 5 was removed before k1 was written
        yield* cluster.mustEngineHave(s(5), "k1", undefined)

        yield* mustAddPeer(cluster, REGION_1, peer(3, 3))
        yield* mustRemovePeer(cluster, REGION_1, peer(2, 2))
        yield* cluster.mustPut("k3", "v3")
        yield* cluster.mustGet("k3", "v3")
        for (const [k, v] of [
          ["k1", "v1"],
          ["k2", "v2"],
          ["k3", "v3"]
        ] as const) {
          yield* cluster.mustEngineHave(s(3), k, v)
        }
        // the removed peer's data is erased
        yield* cluster.mustEngineHave(s(2), "k1", undefined)
        yield* cluster.mustEngineHave(s(2), "k2", undefined)

        // re-added with the same peer id: a fresh peer fed by a snapshot
        yield* mustAddPeer(cluster, REGION_1, peer(2, 2))
        for (const [k, v] of [
          ["k1", "v1"],
          ["k2", "v2"],
          ["k3", "v3"]
        ] as const) {
          yield* cluster.mustEngineHave(s(2), k, v)
        }

        // and with a new peer id on the same store
        yield* mustRemovePeer(cluster, REGION_1, peer(2, 2))
        yield* mustAddPeer(cluster, REGION_1, peer(2, 4))
        yield* mustRemovePeer(cluster, REGION_1, peer(3, 3))
        yield* cluster.mustPut("k4", "v4")
        yield* cluster.mustEngineHave(s(2), "k1", "v1")
        yield* cluster.mustEngineHave(s(2), "k4", "v4")
        yield* cluster.mustEngineHave(s(3), "k1", undefined)
        yield* cluster.mustEngineHave(s(3), "k4", undefined)
      }).pipe(Effect.scoped),
    90_000
  )

  it.live(
    "TestConfChangeRemoveLeader3B",
    () =>
      Effect.gen(function* () {
        const cluster = yield* fiveStores
        yield* mustTransferLeader(cluster, REGION_1, peer(1, 1))
        // removing the leader: it hands leadership over, then the new leader removes it
        yield* mustRemovePeer(cluster, REGION_1, peer(1, 1))
        yield* cluster.mustPut("k0", "v0")
        yield* cluster.mustEngineHave(s(1), "k0", undefined)

        // rejoin and lead again: store 1 sees what was written meanwhile
        yield* mustAddPeer(cluster, REGION_1, peer(1, 1))
        yield* mustTransferLeader(cluster, REGION_1, peer(1, 1))
        yield* cluster.mustPut("k1", "v1")
        yield* cluster.mustEngineHave(s(1), "k0", "v0")
        yield* cluster.mustEngineHave(s(1), "k1", "v1")

        for (const id of [2, 3, 4]) yield* mustRemovePeer(cluster, REGION_1, peer(id, id))
        // a 2-peer region {1, 5} led by 1: remove the leader
        assert.strictEqual(cluster.leaderOf(REGION_1)?.id, 1)
        yield* mustRemovePeer(cluster, REGION_1, peer(1, 1))

        // region 1 is peer (5, 5) alone, and serves
        yield* cluster.mustPut("k2", "v2")
        yield* cluster.mustEngineHave(s(1), "k2", undefined)
        yield* cluster.mustEngineHave(s(1), "k0", undefined)
        yield* mustAddPeer(cluster, REGION_1, peer(1, 1))
        yield* cluster.mustPut("k3", "v3")
        for (const k of ["k0", "k1", "k2", "k3"]) yield* cluster.mustEngineHave(s(1), k, `v${k.slice(1)}`)
        for (const k of ["k0", "k1", "k2", "k3"]) yield* cluster.mustEngineHave(s(5), k, `v${k.slice(1)}`)
      }).pipe(Effect.scoped),
    90_000
  )

  it.live(
    "a ChangePeer under a stale conf version is refused with EpochNotMatch, and changes nothing",
    () =>
      Effect.gen(function* () {
        const cluster = yield* fiveStores
        const leader = yield* waitLeader(cluster)
        const staleEpoch = cluster.store(leader.storeId)!.peers.get(REGION_1)!.region.regionEpoch
        const victim = leader.storeId === 5 ? peer(4, 4) : peer(5, 5)
        yield* mustRemovePeer(cluster, REGION_1, victim)
        const now = yield* waitLeader(cluster)
        const response = yield* cluster.store(now.storeId)!.router.sendCommand({
          header: { regionId: REGION_1, peer: now, regionEpoch: staleEpoch, term: 0 },
          requests: [],
          adminRequest: { _tag: "ChangePeer", changeType: "AddNode", peer: victim }
        })
        assert.strictEqual(response.header.error?._tag, "EpochNotMatch")
        const region = yield* schedulerRegion(cluster, REGION_1)
        assert.isFalse(region?.peers.some((p) => p.id === victim.id))
      }).pipe(Effect.scoped),
    60_000
  )
})
