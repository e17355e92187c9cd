/**
 * A paused old leader must never serve a stale read: the scenario the read lease exists to survive, played
 * out step by step on the simulator's virtual time (so each step lands exactly when the test says).
 *
 * The leader answers a read (taking a lease), then stops — its disk stalls in the middle of a write, as in
 * a long GC pause or a frozen VM — and is cut off from the other stores, but not from clients. The others
 * elect a new leader and acknowledge a new value. When the old leader resumes, nothing from the new leader
 * reaches it, so only its lease decides whether a read sent to it is answered; by then the lease must have
 * run out. The same scenario with a lease twenty times too long (`unsafeTestOnly.leaseTooLong`, the
 * simulator's `lease-too-long` self-test) does return the old value: the scenario can fail.
 */
import { assert, describe, it } from "vitest"
import { Clock, Effect, Exit, Fiber, Random } from "effect"
import type { StoreId } from "../../src/protocol/ids.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type { Peer as PeerMeta } from "../../src/protocol/metapb.js"
import { sendRead } from "../../src/raftstore/readSnapshot.js"
import { slowDisk } from "../../src/testing/sim/slowDisk.js"
import { VirtualTime } from "../../src/testing/sim/virtualTime.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { commandFor, REGION_1, sendTo, waitLeader, waitStableLeader } from "../raftstore/helpers.js"

/** How long the old leader stands still: long enough for the others to elect a leader and write. */
const PAUSE_MS = 3_000

/**
 * A read (a `Snap`, as clients' gets are) sent straight to `peer`'s store: the value of "k", the error it was
 * refused with, or "timeout".
 */
const readOn = (cluster: TestCluster, peer: PeerMeta) =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = cluster.store(peer.storeId)!
      const { response, reader } = yield* sendRead(store.router, commandFor(cluster, peer, [{ _tag: "Snap" }]))
      if (response.header.error !== undefined) return response.header.error._tag
      const value = reader?.get("default", physicalKey("raw", utf8("k")))
      return `value ${value === undefined ? "none" : fromUtf8(value)}`
    })
  ).pipe(Effect.timeoutTo({ duration: "2 seconds", onSuccess: (v) => v, onTimeout: () => "timeout" }))

/** What a read sent to the old leader right as it resumes got: its value, or the error it was refused with. */
const pausedLeaderRead = (seed: number, leaseTooLong: boolean) =>
  Effect.scoped(
    Effect.gen(function* () {
      const cluster = yield* TestCluster.make({
        stores: 3,
        seed,
        deterministic: true,
        // awake followers notice the silence within an election timeout (sleeping ones take two check-ins
        // longer, `hibernate.ts`), so the new leader is elected well inside the pause
        config: { hibernateRegions: false, ...(leaseTooLong ? { unsafeTestOnly: { leaseTooLong: true } } : {}) }
      })
      const stalledUntil = new Map<StoreId, number>()
      for (const id of cluster.storeIds) yield* cluster.wrapStorage(id, slowDisk(new Map(), id, stalledUntil))
      yield* cluster.start
      yield* cluster.mustPut("k", "old")
      // the simulator's clock, not the live one: a live timer would fire at a virtual time the machine's speed sets
      const old = yield* waitStableLeader(cluster, 10_000, "caller")
      assert.strictEqual(yield* readOn(cluster, old), "value old", "the leader's first read (it takes a lease)")

      // the old leader stops inside its next write and loses its links to the other stores
      const resumesAt = (yield* Clock.currentTimeMillis) + PAUSE_MS
      stalledUntil.set(old.storeId, resumesAt)
      yield* cluster.isolate(old.storeId)
      const stuckPut = yield* Effect.fork(
        sendTo(cluster, old, [{ _tag: "Put", cf: "default", key: utf8("k"), value: utf8("lost") }], 10_000)
      )

      // the others elect a leader of a later term and acknowledge a new value
      const others = cluster.storeIds.filter((id) => id !== old.storeId)
      const fresh = yield* waitLeader(cluster, REGION_1, others, PAUSE_MS, "caller")
      const put = yield* sendTo(cluster, fresh, [{ _tag: "Put", cf: "default", key: utf8("k"), value: utf8("new") }])
      assert.isUndefined(put.header.error, "the new leader acknowledges the new value")
      const now = yield* Clock.currentTimeMillis
      assert.isBelow(now, resumesAt, "the new value is acknowledged while the old leader still stands still")

      // a read reaches the old leader just before it resumes, and is the first thing it sees afterwards
      yield* Effect.sleep(`${resumesAt - now - 1} millis`)
      const read = yield* readOn(cluster, old)
      yield* Fiber.interrupt(stuckPut)
      return read
    })
  ).pipe(Effect.withRandom(Random.make(seed)))

const run = async (seed: number, leaseTooLong: boolean) => {
  const time = new VirtualTime()
  const exit = await time.run(pausedLeaderRead(seed, leaseTooLong), 120_000)
  if (exit === undefined) throw new Error(`seed ${seed}: the scenario did not finish`)
  if (Exit.isFailure(exit)) throw new Error(`seed ${seed}: ${String(exit.cause)}`)
  return exit.value
}

describe("a paused, cut-off old leader", () => {
  it("never answers a read with the value the new leader replaced", { timeout: 120_000 }, async () => {
    for (const seed of [1, 2, 3]) {
      const read = await run(seed, false)
      // its lease ran out during the pause: it asks the quorum it cannot reach, and CheckQuorum deposes it
      assert.include(["NotLeader", "ServerIsBusy", "timeout"], read, `seed ${seed}: a refusal, not a read`)
    }
  })

  it("does, with a lease twenty times too long (the check can fail)", { timeout: 120_000 }, async () => {
    for (const seed of [1, 2, 3]) assert.strictEqual(await run(seed, true), "value old", `seed ${seed}`)
  })
})
