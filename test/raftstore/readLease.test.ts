/**
 * The leader's read lease (`src/raftstore/readLease.ts`): a quorum's confirmation of a ReadIndex batch lets the
 * leader answer reads alone until the lease runs out; a transfer, a new term or a membership change ends it;
 * a read whose lease ran out before its snapshot was open is refused. Whether a lease that is too long is
 * caught as stale reads is the simulator's self-test (`npm run sim -- --broken lease-too-long`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type { Peer as PeerMeta } from "../../src/protocol/metapb.js"
import type { RaftCmdResponse } from "../../src/protocol/raftCmd.js"
import { testConfig } from "../../src/raftstore/config.js"
import type { Reply } from "../../src/raftstore/peer.js"
import { refuseLapsedLeaseReads } from "../../src/raftstore/readIndexServe.js"
import { leaseNanos, ReadLease } from "../../src/raftstore/readLease.js"
import { okResponse } from "../../src/raftstore/responses.js"
import { sendRead } from "../../src/raftstore/readSnapshot.js"
import { mustTransferLeader } from "../../src/testing/clusterAdmin.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { commandFor, REGION_1, waitStableLeader, withStoppedClock } from "./helpers.js"

const KEY = physicalKey("raw", utf8("k"))
const MS = 1_000_000n

describe("ReadLease", () => {
  it("holds from the time the confirmed batch was asked, in its term only", () => {
    const lease = new ReadLease(400n * MS)
    assert.isUndefined(lease.validUntil(1, 0n), "no lease before a confirmation")
    lease.renew(1, lease.generation, 100n * MS)
    assert.strictEqual(lease.validUntil(1, 499n * MS), 500n * MS)
    assert.isUndefined(lease.validUntil(1, 500n * MS), "the end is exclusive")
    assert.isUndefined(lease.validUntil(2, 200n * MS), "another term has no lease")
    // an older confirmation never shortens it
    lease.renew(1, lease.generation, 50n * MS)
    assert.strictEqual(lease.validUntil(1, 300n * MS), 500n * MS)
  })

  it("ends on invalidate, and a batch asked before it renews nothing", () => {
    const lease = new ReadLease(400n * MS)
    const before = lease.generation
    lease.renew(1, before, 0n)
    lease.invalidate()
    assert.isUndefined(lease.validUntil(1, 1n))
    lease.renew(1, before, 10n * MS)
    assert.isUndefined(lease.validUntil(1, 20n * MS), "asked before the membership changed")
    lease.renew(1, lease.generation, 10n * MS)
    assert.strictEqual(lease.validUntil(1, 20n * MS), 410n * MS)
  })

  it("a new term's confirmation replaces the old term's lease", () => {
    const lease = new ReadLease(400n * MS)
    lease.renew(1, lease.generation, 1_000n * MS)
    lease.renew(2, lease.generation, 100n * MS)
    assert.isUndefined(lease.validUntil(1, 200n * MS))
    assert.strictEqual(lease.validUntil(2, 200n * MS), 500n * MS)
  })

  it("lasts two ticks less than the election timeout, and not at all below three election ticks", () => {
    assert.strictEqual(leaseNanos(10, 50), 400n * MS)
    assert.strictEqual(leaseNanos(2, 50), 0n)
    assert.strictEqual(new ReadLease(0n).validUntil(-1, 0n), undefined)
  })

  it.effect("a read whose lease ran out before its snapshot opened is refused ServerIsBusy", () =>
    Effect.gen(function* () {
      const ok = okResponse([{ _tag: "Snap" as const, region: undefined as never }], 3)
      const [a, b, c] = [
        yield* Deferred.make<RaftCmdResponse>(),
        yield* Deferred.make<RaftCmdResponse>(),
        yield* Deferred.make<RaftCmdResponse>()
      ]
      const replies: Array<Reply> = [
        [a, ok],
        [b, ok],
        [c, ok]
      ]
      refuseLapsedLeaseReads(
        replies,
        [
          [a, 100n],
          [b, 101n]
        ],
        100n
      )
      assert.strictEqual(replies[0]![1].header.error?._tag, "ServerIsBusy")
      assert.strictEqual(replies[0]![1].header.currentTerm, 3)
      assert.strictEqual(replies[1]![1], ok, "its lease still holds")
      assert.strictEqual(replies[2]![1], ok, "not a lease read")
    })
  )
})

const readAt = (cluster: TestCluster, peer: PeerMeta) =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = cluster.store(peer.storeId)!
      const { response, reader } = yield* sendRead(store.router, commandFor(cluster, peer, [{ _tag: "Snap" }]))
      const value = reader?.get("default", KEY)
      return { error: response.header.error?._tag, value: value === undefined ? undefined : fromUtf8(value) }
    })
  )

describe("raftstore reads under the lease", () => {
  it.live(
    "one quorum round serves every read until the lease runs out; a transfer ends it",
    () =>
      withStoppedClock((time) =>
        Effect.gen(function* () {
          const seed = testSeed()
          const cluster = yield* TestCluster.make({ stores: 3, seed })
          yield* cluster.start
          yield* cluster.mustPut("k", "v")
          const leader = yield* waitStableLeader(cluster)
          const peer = cluster.store(leader.storeId as StoreId)!.peers.get(REGION_1)!
          // count the leader's read-index rounds
          let asks = 0
          const readIndex = peer.rawNode.readIndex.bind(peer.rawNode)
          peer.rawNode.readIndex = (ctx) => {
            asks++
            return readIndex(ctx)
          }
          assert.deepStrictEqual(yield* readAt(cluster, leader), { error: undefined, value: "v" }, `seed ${seed}`)
          assert.strictEqual(asks, 1, "the first read asks the quorum")
          for (let i = 0; i < 10; i++) {
            assert.deepStrictEqual(yield* readAt(cluster, leader), { error: undefined, value: "v" }, `seed ${seed}`)
          }
          assert.strictEqual(asks, 1, `seed ${seed}: reads under the lease ask nobody`)
          time.advance(Number(leaseNanos(testConfig.electionTicks, testConfig.baseTickMs) / MS))
          assert.deepStrictEqual(yield* readAt(cluster, leader), { error: undefined, value: "v" }, `seed ${seed}`)
          assert.strictEqual(asks, 2, "once the lease ran out, a read asks again")
          assert.isDefined(peer.leaseUntil(), "and renews it")

          // a transfer ends the lease at once, for the rest of the term
          const target = peer.region.peers.find((p) => p.storeId !== leader.storeId)!
          yield* mustTransferLeader(cluster, REGION_1, target)
          assert.isUndefined(peer.leaseUntil(), "the old leader has no lease")
        })
      ).pipe(Effect.scoped),
    60_000
  )
})
