/**
 * Raft log GC (TinyKV `onRaftGCLogTick` + `RaftLogGCTask`, TestGcRaftLog): once a CompactLog
 * applies, every replica's log keys at or below the truncated index are gone from its engine, the ones
 * above it are intact, and the raft state and apply state agree. The log is compacted by bytes too
 * (`raftLogGcSizeLimit`), so a follower that lags however long does not keep the leader's log — every entry
 * of which is in memory — growing; it catches up from a snapshot. And past `raftLogGcThreshold` entries it is
 * compacted up to what every member holds (TiKV's `raft-log-gc-threshold`): short while the members keep up, and
 * a member that stopped still finds its missing entries in the leader's log.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric, MetricLabel } from "effect"
import type { StoreId } from "../../src/protocol/ids.js"
import { MIN_ENTRIES_TO_COMPACT } from "../../src/raftstore/config.js"
import { waitStableLeader } from "./helpers.js"
import { decodeEntry, RaftApplyStateCodec } from "../../src/raftstore/codec.js"
import { snapshots, storeLabel } from "../../src/raftstore/metrics.js"
import { applyStateKey, raftLogIndex, raftLogKey } from "../../src/raftstore/keys.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { REGION_1 } from "./helpers.js"

describe("raft log GC", () => {
  it.live("deletes the log below the truncated index on every replica after a CompactLog applies", () =>
    Effect.gen(function* () {
      const seed = testSeed()
      const limit = 10
      const cluster = yield* TestCluster.make({ stores: 3, seed, config: { raftLogGcCountLimit: limit } })
      yield* cluster.start
      for (let i = 0; i < 3 * limit; i++) yield* cluster.mustPut(`k${i}`, `v${i}`)
      // every replica compacts: apply of the CompactLog moves its truncated state past the bootstrap 5/5
      // and the GC keeps up: once the writes stop, a GC tick leaves at most 2 × limit entries. Not
      // asserted at one instant while writing — a GC tick runs on its own interval, and between two ticks
      // any number of entries may apply
      const applyOnDisk = (id: StoreId) =>
        Effect.map(cluster.engineMeta(id, applyStateKey(REGION_1)), (raw) => RaftApplyStateCodec.decode(raw!))
      yield* eventually(
        Effect.gen(function* () {
          const states = yield* Effect.forEach(cluster.storeIds, applyOnDisk)
          const shown = states.map((s) => `${s.truncatedState.index}/${s.appliedIndex}`).join(",")
          assert.isTrue(
            states.every((s) => s.truncatedState.index > 5 + limit),
            `seed ${seed}: truncated/applied ${shown}`
          )
          assert.isTrue(
            states.every((s) => s.appliedIndex - s.truncatedState.index <= 2 * limit),
            `seed ${seed}: more than ${2 * limit} live entries: truncated/applied ${shown}`
          )
        }),
        { what: `every replica to truncate its log past ${5 + limit} and keep it short`, interval: "20 millis" }
      )
      for (const id of cluster.storeIds as Array<StoreId>) {
        const s = RaftApplyStateCodec.decode((yield* cluster.engineMeta(id, applyStateKey(REGION_1)))!)
        const truncated = s.truncatedState.index
        const below = yield* cluster.engineScan(
          id,
          "raft",
          raftLogKey(REGION_1, 0),
          raftLogKey(REGION_1, truncated + 1)
        )
        assert.deepStrictEqual(
          below.map((kv) => raftLogIndex(kv.key)),
          [],
          `seed ${seed}: store ${id} kept compacted entries`
        )
        const kept = yield* cluster.engineScan(
          id,
          "raft",
          raftLogKey(REGION_1, truncated + 1),
          raftLogKey(REGION_1, s.appliedIndex + 1)
        )
        const indexes = kept.map((kv) => decodeEntry(kv.value).index)
        assert.deepStrictEqual(
          indexes,
          Array.from({ length: s.appliedIndex - truncated }, (_, i) => truncated + 1 + i),
          `seed ${seed}: store ${id} lost live entries`
        )
        assert.isAtMost(s.appliedIndex - truncated, 2 * limit)
        const peer = cluster.store(id)!.peers.get(REGION_1)!
        assert.strictEqual(peer.storage.firstIndex(), truncated + 1, "the storage serves from the truncated index on")
      }
    }).pipe(Effect.scoped)
  )

  it.live("compacts by bytes: a stopped follower does not keep the leader's log growing, and catches up after", () =>
    Effect.gen(function* () {
      const seed = testSeed()
      const sizeLimit = 16 * 1024
      const cluster = yield* TestCluster.make({
        stores: 3,
        seed,
        // the count alone would never compact here
        config: { raftLogGcCountLimit: 1_000_000, raftLogGcSizeLimit: sizeLimit }
      })
      yield* cluster.start
      yield* cluster.mustPut("k", "v")
      const leader = yield* waitStableLeader(cluster)
      const lagging = cluster.storeIds.find((id) => id !== leader.storeId) as StoreId
      yield* cluster.stopStore(lagging)
      const value = "x".repeat(1024)
      // 128 KiB of commands while the follower is away: eight times the limit
      for (let i = 0; i < 128; i++) yield* cluster.mustPut(`k${i}`, `${i}:${value}`)
      const log = () => cluster.store(leader.storeId)!.peers.get(REGION_1)!.rawNode.raft.raftLog
      yield* eventually(
        Effect.sync(() => {
          const l = log()
          const bytes = l.dataBytes(l.firstIndex(), l.lastIndex() + 1)
          // once the writes stop, a GC tick leaves less than the limit (plus the one write that crossed it)
          assert.isBelow(bytes, sizeLimit + 2 * 1024, `seed ${seed}: ${bytes} bytes of entries in memory`)
        }),
        { what: "the leader's log to be compacted under its size limit", interval: "20 millis" }
      )
      // the follower comes back behind the compaction: a snapshot brings it up to date
      yield* cluster.startStore(lagging)
      yield* eventually(
        Effect.map(cluster.engineGet(lagging, "k127"), (v) =>
          assert.strictEqual(v === undefined ? undefined : new TextDecoder().decode(v), `127:${value}`)
        ),
        { what: `store ${lagging} to catch up`, interval: "50 millis", timeout: "20 seconds" }
      )
    }).pipe(Effect.scoped)
  )

  it.live("compacts up to what every member holds past the threshold; a stopped member catches up from the log", () =>
    Effect.gen(function* () {
      const seed = testSeed()
      const threshold = 10
      const cluster = yield* TestCluster.make({
        stores: 3,
        seed,
        // neither the count nor the bytes would compact here
        config: { raftLogGcThreshold: threshold, raftLogGcCountLimit: 1_000_000 }
      })
      yield* cluster.start
      for (let i = 0; i < 4 * threshold; i++) yield* cluster.mustPut(`k${i}`, `v${i}`)
      const truncatedOn = (id: StoreId) =>
        Effect.map(
          cluster.engineMeta(id, applyStateKey(REGION_1)),
          (raw) => RaftApplyStateCodec.decode(raw!).truncatedState.index
        )
      yield* eventually(
        Effect.gen(function* () {
          const truncated = yield* Effect.forEach(cluster.storeIds, truncatedOn)
          assert.isTrue(
            truncated.every((t) => t > 5 + threshold),
            `seed ${seed}: truncated ${truncated.join(",")}`
          )
        }),
        { what: "every replica to compact its log with all members keeping up", interval: "20 millis" }
      )

      const leader = yield* waitStableLeader(cluster)
      const stopped = cluster.storeIds.find((id) => id !== leader.storeId) as StoreId
      const applied = Metric.taggedWithLabels(snapshots, [...storeLabel(stopped), MetricLabel.make("event", "applied")])
      const snapshotsBefore = (yield* Metric.value(applied)).count
      yield* cluster.stopStore(stopped)
      for (let i = 0; i < 4 * threshold; i++) yield* cluster.mustPut(`later${i}`, `v${i}`)
      yield* cluster.startStore(stopped)
      yield* eventually(
        Effect.map(cluster.engineGet(stopped, `later${4 * threshold - 1}`), (v) => assert.isDefined(v)),
        { what: `store ${stopped} to catch up`, interval: "50 millis", timeout: "20 seconds" }
      )
      assert.strictEqual(
        (yield* Metric.value(applied)).count,
        snapshotsBefore,
        `seed ${seed}: store ${stopped} needed a snapshot: the leader compacted entries it lacked`
      )
    }).pipe(Effect.scoped)
  )

  it.live("a region written below the threshold and then left compacts its log and sleeps, in memory too", () =>
    Effect.gen(function* () {
      const seed = testSeed()
      // the default threshold (50) is never reached by 10 writes
      const cluster = yield* TestCluster.make({ stores: 3, seed })
      yield* cluster.start
      for (let i = 0; i < 10; i++) yield* cluster.mustPut(`k${i}`, `v${i}`)
      yield* waitStableLeader(cluster)
      // whichever store leads by then: on a loaded machine leadership may still move after the wait above
      const leaderPeer = () =>
        cluster.storeIds.map((id) => cluster.store(id as StoreId)?.peers.get(REGION_1)).find((p) => p?.isLeader)
      yield* eventually(
        () => {
          const peer = leaderPeer()
          if (peer === undefined) throw new Error("no leader")
          const log = peer.rawNode.raft.raftLog
          // Compacted past the bootstrap log, and what is left too short to compact (`MIN_ENTRIES_TO_COMPACT`:
          // the region may sleep with it). Not necessarily past the last put: a GC tick that ran while the puts
          // did compacts to the applied index then, and its own CompactLog entry is one more, so the last put
          // and that entry may be what is left (seen: truncated at 15, 2 entries in memory, asleep).
          const done =
            peer.storage.truncatedIndex > 5 &&
            log.lastIndex() >= 5 + 10 &&
            log.entries.length < MIN_ENTRIES_TO_COMPACT &&
            peer.hibernation.state === "asleep"
          // what a timeout reports as the last failure
          if (!done) {
            const at = `truncated at ${peer.storage.truncatedIndex}, ${log.entries.length} entries in memory`
            throw new Error(`leader peer ${peer.id}: ${at}, ${peer.hibernation.state}`)
          }
          return true
        },
        {
          what: `seed ${seed}: the leader's log compacted below the threshold, then the region asleep`,
          timeout: "20 seconds",
          interval: "20 millis"
        }
      )
      // every replica compacted to the same index (the same CompactLog entries apply everywhere)
      const truncated = leaderPeer()!.storage.truncatedIndex
      for (const id of cluster.storeIds) {
        yield* eventually(
          Effect.map(
            cluster.engineMeta(id, applyStateKey(REGION_1)),
            (raw) => RaftApplyStateCodec.decode(raw!).truncatedState.index === truncated
          ),
          { what: `seed ${seed}: store ${id} truncated at ${truncated}`, timeout: "10 seconds", interval: "20 millis" }
        )
      }
    }).pipe(Effect.scoped)
  )
})
