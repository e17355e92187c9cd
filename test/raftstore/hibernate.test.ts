/**
 * Hibernate regions (`src/raftstore/hibernate.ts`, on in `testConfig`): a quiet region stops ticking and
 * heartbeating; a proposal, a read or a message wakes it; a new leader is elected when the sleeping
 * leader's store dies.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import type { StoreConfig } from "../../src/raftstore/config.js"
import { REPORT_EVERY_CHECK_INS, SLEEP_MARK } from "../../src/raftstore/hibernate.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { neverWithin, REGION_1, sendTo, waitLeader, waitStableLeader } from "./helpers.js"

const peerOf = (cluster: TestCluster, store: number) => cluster.store(store as StoreId)?.peers.get(REGION_1)

/** Every running store's peer of region 1 is asleep. */
const allAsleep = (cluster: TestCluster, stores: ReadonlyArray<number> = cluster.storeIds) =>
  eventually(() => stores.every((id) => peerOf(cluster, id)?.hibernation.state === "asleep"), {
    what: "every peer of region 1 to hibernate",
    timeout: "10 seconds",
    interval: "20 millis"
  })

/** A fresh 3-store cluster (with `config`) that took `k = v1` and whose region 1 then fell asleep on every store. */
const asleepAfterOneWriteWith = (config: Partial<StoreConfig> = {}) =>
  Effect.gen(function* () {
    const seed = testSeed()
    const cluster = yield* TestCluster.make({ stores: 3, seed, config })
    yield* cluster.start
    yield* cluster.mustPut("k", "v1")
    const leader = yield* waitStableLeader(cluster)
    yield* allAsleep(cluster)
    return { seed, cluster, leader }
  })
const asleepAfterOneWrite = asleepAfterOneWriteWith()

/** Splits the region holding `after` at `at` (the scheduler's admin split) and waits until `after` is in a new region. */
const adminSplit = (cluster: TestCluster, seed: number, at: string, after: string) =>
  Effect.gen(function* () {
    const { region } = yield* cluster.getRegion(utf8(after))
    yield* cluster.scheduler.splitRegion({
      header: { clusterId: cluster.scheduler.clusterId },
      regionId: region.id,
      splitKey: utf8(at)
    })
    yield* eventually(
      Effect.map(cluster.getRegion(utf8(after)), (r) => r.region.id !== region.id),
      { what: `seed ${seed}: the admin split of region ${region.id} at "${at}"`, timeout: "20 seconds" }
    )
  })

const isMarked = (ctx: Uint8Array | undefined) => ctx !== undefined && ctx.length === 1 && ctx[0] === SLEEP_MARK[0]

describe("raftstore hibernate regions", () => {
  it.live(
    "a quiet region stops ticking and heartbeating; a proposal wakes it, and it sleeps again",
    () =>
      Effect.gen(function* () {
        const { seed, cluster, leader } = yield* asleepAfterOneWrite
        // while asleep, only the check-ins go (marked heartbeats every hibernateCheckInTicks) and their answers
        let unmarked = 0
        let total = 0
        yield* cluster.observe((d) => {
          if (d.message.regionId !== REGION_1) return
          total++
          const m = d.message.message
          const checkIn = (m.msgType === "MsgHeartbeat" || m.msgType === "MsgHeartbeatResponse") && isMarked(m.context)
          if (!checkIn) unmarked++
        })
        const raft = peerOf(cluster, leader.storeId)!.rawNode.raft
        const frozen = { election: raft.electionElapsed, heartbeat: raft.heartbeatElapsed }
        yield* neverWithin(
          Effect.sync(() => {
            const p = peerOf(cluster, leader.storeId)!
            if (unmarked > 0) return `seed ${seed}: ${unmarked} messages other than check-ins while asleep`
            if (
              p.rawNode.raft.electionElapsed !== frozen.election ||
              p.rawNode.raft.heartbeatElapsed !== frozen.heartbeat
            )
              return `seed ${seed}: the sleeping leader was ticked`
            return cluster.storeIds.some((id) => peerOf(cluster, id)?.hibernation.state !== "asleep")
              ? `seed ${seed}: a peer woke with nothing to do`
              : false
          }),
          { what: "a sleeping region stays quiet", window: "1500 millis" }
        )
        // awake, a leader heartbeats each follower every 2 ticks (60 messages and answers in 1.5 s): asleep, at
        // most two check-ins per 20 ticks
        assert.isAtMost(total, 16, `seed ${seed}: ${total} messages of a sleeping region in 1.5 s`)
        // a proposal wakes the leader, its append wakes the followers, and the write commits on all of them
        yield* cluster.mustPut("k", "v2")
        for (const id of cluster.storeIds) yield* cluster.mustEngineHave(id, "k", "v2")
        assert.isTrue(peerOf(cluster, leader.storeId)?.isLeader, `seed ${seed}: the leader changed`)
        assert.isAbove(unmarked, 0, `seed ${seed}: the write went without messages`)
        yield* allAsleep(cluster)
        // a linearizable read wakes it too and sees the write
        yield* cluster.mustGet("k", "v2")
        assert.strictEqual(peerOf(cluster, leader.storeId)?.term, raft.term, `seed ${seed}: the term moved`)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a message wakes it: a follower asked for something pings its sleeping leader, which heartbeats again",
    () =>
      Effect.gen(function* () {
        const { seed, cluster, leader } = yield* asleepAfterOneWrite
        const follower = cluster.storeIds.find((id) => id !== leader.storeId)!
        const before = peerOf(cluster, leader.storeId)!.term
        // a command to a follower is refused (NotLeader), and wakes it; it wakes its leader with a message
        const answer = yield* sendTo(cluster, peerOf(cluster, follower)!.meta, [{ _tag: "Snap" }])
        assert.isDefined(answer.header.error, `seed ${seed}: a follower served a command`)
        yield* eventually(() => peerOf(cluster, leader.storeId)?.hibernation.state !== "asleep", {
          what: `seed ${seed}: the leader to wake on the follower's message`,
          timeout: "5 seconds",
          interval: "5 millis"
        })
        // woken by a follower, the leader keeps its leadership (nobody campaigned) and they all sleep again
        yield* allAsleep(cluster)
        const after = peerOf(cluster, leader.storeId)!
        assert.isTrue(after.isLeader, `seed ${seed}: the leader was deposed`)
        assert.strictEqual(after.term, before, `seed ${seed}: the term moved`)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "when the sleeping leader's store dies, the followers wake and elect a new leader",
    () =>
      Effect.gen(function* () {
        const { cluster, leader } = yield* asleepAfterOneWrite
        yield* cluster.stopStore(leader.storeId)
        const others = cluster.storeIds.filter((id) => id !== leader.storeId)
        const next = yield* waitLeader(cluster, REGION_1, others, 20_000)
        assert.notStrictEqual(next.storeId, leader.storeId)
        yield* cluster.mustPut("k", "v2")
        for (const id of others) yield* cluster.mustEngineHave(id, "k", "v2")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "with hibernateRegions off, a quiet region never sleeps",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 3, seed, config: { hibernateRegions: false } })
        yield* cluster.start
        yield* cluster.mustPut("k", "v1")
        yield* waitStableLeader(cluster)
        yield* neverWithin(
          Effect.sync(() =>
            cluster.storeIds.some((id) => peerOf(cluster, id)?.hibernation.state !== "awake")
              ? `seed ${seed}: a peer hibernates with hibernation off`
              : false
          ),
          { what: "no peer hibernates", window: "1 second" }
        )
      }).pipe(Effect.scoped),
    60_000
  )
  it.live(
    "the scheduler's operators reach a sleeping region: the store heartbeat's answer asks its leader to report",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        // check-ins far apart (10,000 ticks): an operator that waited for one would not arrive in this test
        const cluster = yield* TestCluster.make({ stores: 3, seed, config: { hibernateCheckInTicks: 10_000 } })
        yield* cluster.start
        yield* cluster.mustPut("a", "1")
        yield* cluster.mustPut("z", "2")
        yield* waitStableLeader(cluster)
        yield* allAsleep(cluster)
        // the sleeping region 1
        yield* adminSplit(cluster, seed, "m", "z")
        yield* cluster.mustGet("a", "1")
        yield* cluster.mustGet("z", "2")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "sleeping leaders check in on whole buckets of ticks, so a store's check-ins share rounds",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        // a 60-tick period (3 s): check-ins land on multiples of 2 ticks (a thirtieth of the period)
        const cluster = yield* TestCluster.make({ stores: 3, seed, config: { hibernateCheckInTicks: 60 } })
        yield* cluster.start
        for (const k of ["a", "g", "m", "s"]) yield* cluster.mustPut(k, "1")
        yield* waitStableLeader(cluster)
        yield* adminSplit(cluster, seed, "d", "g")
        yield* adminSplit(cluster, seed, "j", "m")
        yield* adminSplit(cluster, seed, "p", "s")
        const leaders = () =>
          cluster.storeIds.flatMap((id) => [...(cluster.store(id)?.peers.values() ?? [])].filter((p) => p.isLeader))
        yield* eventually(() => leaders().length === 4 && leaders().every((p) => p.hibernation.state === "asleep"), {
          what: `seed ${seed}: the 4 regions' leaders to hibernate`,
          timeout: "20 seconds",
          interval: "20 millis"
        })
        // every check-in after the one that put a leader to sleep, as the tick it happened on
        const first = new Map(leaders().map((p) => [p.regionId, p.hibernation.lastCheckIn]))
        const seen = new Map<number, Set<number>>()
        yield* eventually(
          () => {
            for (const p of leaders()) {
              const at = p.hibernation.lastCheckIn
              if (at === first.get(p.regionId)) continue
              let ticks = seen.get(p.regionId)
              if (ticks === undefined) seen.set(p.regionId, (ticks = new Set()))
              ticks.add(at)
            }
            return seen.size === 4 && [...seen.values()].every((t) => t.size >= 2)
          },
          { what: `seed ${seed}: two check-ins of each leader`, timeout: "30 seconds", interval: "10 millis" }
        )
        const off = [...seen].flatMap(([region, ticks]) =>
          [...ticks].filter((t) => t % 2 !== 0).map((t) => `${region}@${t}`)
        )
        assert.deepStrictEqual(off, [], `seed ${seed}: check-ins off the 2-tick buckets`)
        // asleep all along: nothing but check-ins woke them
        assert.isTrue(
          leaders().every((p) => p.hibernation.state === "asleep"),
          `seed ${seed}: a leader woke`
        )
      }).pipe(Effect.scoped),
    90_000
  )

  it.live(
    "a sleeping leader reports to the scheduler at every tenth check-in only, while its report is unchanged",
    () =>
      Effect.gen(function* () {
        // a 4-tick period (200 ms): a dozen check-ins in a few seconds
        const { seed, cluster, leader } = yield* asleepAfterOneWriteWith({ hibernateCheckInTicks: 4 })
        const peer = peerOf(cluster, leader.storeId)!
        const reportsBefore = cluster.regionReports(REGION_1)
        let last = peer.hibernation.lastCheckIn
        let checkIns = 0
        yield* eventually(
          () => {
            const at = peer.hibernation.lastCheckIn
            if (at !== last) {
              last = at
              checkIns++
            }
            return checkIns >= REPORT_EVERY_CHECK_INS + 2
          },
          { what: `seed ${seed}: a dozen check-ins`, timeout: "20 seconds", interval: "5 millis" }
        )
        assert.strictEqual(peer.hibernation.state, "asleep", `seed ${seed}: the leader woke`)
        const reports = cluster.regionReports(REGION_1) - reportsBefore
        // one keep-alive per ten check-ins (two at most over a dozen), not one per check-in
        assert.isAtLeast(reports, 1, `seed ${seed}: no keep-alive report over ${checkIns} check-ins`)
        assert.isAtMost(reports, 2, `seed ${seed}: ${reports} reports over ${checkIns} check-ins`)
      }).pipe(Effect.scoped),
    60_000
  )
})
