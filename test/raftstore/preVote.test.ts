/**
 * PreVote and CheckQuorum in the raftstore (on by default, `StoreConfig.preVote` / `checkQuorum`): a store
 * cut off and healed does not depose a leader the rest of the region still hears, and a leader cut off from
 * every follower steps down on its own instead of believing it leads forever.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { StoreId } from "../../src/protocol/ids.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { REGION_1, waitLeader, waitStableLeader } from "./helpers.js"

const peerOf = (cluster: TestCluster, store: number) => cluster.store(store as StoreId)?.peers.get(REGION_1)

describe("raftstore PreVote and CheckQuorum", () => {
  it.live(
    "a follower cut off and healed does not depose the leader (the term is unchanged)",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 3, seed })
        yield* cluster.start
        yield* cluster.mustPut("k", "v1")
        const leader = yield* waitStableLeader(cluster)
        const term = peerOf(cluster, leader.storeId)!.term
        const follower = cluster.storeIds.find((id) => id !== leader.storeId)!
        yield* cluster.isolate(follower)
        // the cut-off follower's election timer fires: it polls (PreCandidate) at its old term, again and
        // again; without PreVote it would campaign at ever higher terms. Wait for a few polls.
        let polls = 0
        yield* eventually(
          () => {
            const p = peerOf(cluster, follower)
            if (p?.rawNode.raft.state === "PreCandidate") polls++
            assert.strictEqual(p?.term, term, `seed ${seed}: the cut-off follower's term moved`)
            return polls >= 3
          },
          { what: `seed ${seed}: the cut-off follower to poll for votes`, timeout: "10 seconds", interval: "50 millis" }
        )
        yield* cluster.clearFilters
        yield* cluster.mustPut("k", "v2")
        yield* eventually(
          () => {
            const p = peerOf(cluster, follower)
            return p?.leaderId === leader.id && p.rawNode.raft.state === "Follower"
          },
          { what: `seed ${seed}: the healed follower to follow the leader again` }
        )
        const after = peerOf(cluster, leader.storeId)!
        assert.isTrue(after.isLeader, `seed ${seed}: the leader was deposed`)
        assert.strictEqual(after.term, term, `seed ${seed}: the term moved`)
        yield* cluster.mustEngineHave(follower, "k", "v2")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a leader cut off from every follower steps down; the others elect a new one",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 3, seed })
        yield* cluster.start
        yield* cluster.mustPut("k", "v1")
        const leader = yield* waitStableLeader(cluster)
        yield* cluster.isolate(leader.storeId)
        // nothing reaches it, so only its own quorum check can make it a follower
        yield* eventually(() => peerOf(cluster, leader.storeId)?.isLeader === false, {
          what: `seed ${seed}: the isolated leader to step down`
        })
        const others = cluster.storeIds.filter((id) => id !== leader.storeId)
        const next = yield* waitLeader(cluster, REGION_1, others, 10_000)
        assert.notStrictEqual(next.storeId, leader.storeId)
        yield* cluster.clearFilters
        yield* cluster.mustPut("k", "v2")
        yield* cluster.mustEngineHave(leader.storeId, "k", "v2")
      }).pipe(Effect.scoped),
    60_000
  )
})
