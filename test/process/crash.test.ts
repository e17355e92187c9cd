/**
 * Crash tests on real processes (issue "Done when"): kill -9 of one store, recovery within 3 s,
 * catch-up of the restarted store by snapshot, and durability of every acknowledged write across a
 * kill -9 of every process.
 */
import { Effect } from "effect"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { connect } from "../../src/client/promise.js"
import { layerClientRpc } from "../../src/layers/schedulerClientRpc.js"
import { SchedulerClient } from "../../src/services/SchedulerClient.js"
import { eventually } from "../../src/testing/eventually.js"
import { assertBuilt } from "../support/cli.js"
import { type ProcessCluster, startProcessCluster } from "../support/processCluster.js"

/** `eventually` for a Promise check: retries `f` until it resolves or `ms` pass; resolves with the time it took. */
const eventuallyAsync = async (what: string, f: () => Promise<unknown>, ms: number): Promise<number> => {
  const start = Date.now()
  await Effect.runPromise(
    eventually(
      Effect.tryPromise(() => f()),
      { what, timeout: `${ms} millis`, interval: "50 millis" }
    )
  )
  return Date.now() - start
}

/** The store of the first region's leader, as the scheduler last heard it. */
const leaderStore = async (cluster: ProcessCluster): Promise<number> => {
  const found = await Effect.runPromise(
    Effect.flatMap(SchedulerClient, (s) => s.getRegion(new Uint8Array())).pipe(
      Effect.provide(layerClientRpc({ address: cluster.scheduler }))
    )
  )
  if (found?.leader === undefined) throw new Error("no leader known")
  return found.leader.storeId
}

describe("a cluster of real processes", () => {
  let cluster: ProcessCluster | undefined
  afterEach(async () => {
    await cluster?.cleanup()
    cluster = undefined
  })

  it("kill -9 of the leader store: service is back within 3 s; restarted, the store catches up by snapshot", async () => {
    assertBuilt()
    const started = await startProcessCluster({ stores: 3, extraStoreArgs: ["--raft-log-gc-limit", "20"] })
    cluster = started
    const kv = await connect({ scheduler: started.scheduler, deadline: "20 seconds" })
    try {
      await eventuallyAsync("the cluster to take a write", () => kv.put("warmup", "1"), 30_000)
      for (let i = 0; i < 30; i++) await kv.put(`before-${i}`, `v${i}`)
      const leader = await leaderStore(cluster)
      await cluster.killStore(leader)
      const recovered = await eventuallyAsync(
        "a write and read after the kill",
        async () => {
          await kv.put("after-kill", "yes")
          if ((await kv.getString("after-kill")) !== "yes") throw new Error("read did not see the write")
        },
        10_000
      )
      assert.isBelow(recovered, 3_000)
      // the survivors compact their logs past what the dead store has: wait until each logs a compaction
      // that came after the writes it missed
      const survivors = started.stores.map((s) => s.id).filter((id) => id !== leader)
      const compactions = (id: number) => (started.output(`store-${id}`).match(/compacted the raft log/g) ?? []).length
      const before = new Map(survivors.map((id) => [id, compactions(id)]))
      for (let i = 0; i < 100; i++) await kv.put(`while-down-${i}`, `w${i}`)
      await eventuallyAsync(
        "every surviving store to compact its raft log after the writes",
        async () => {
          for (const id of survivors) {
            if (compactions(id) <= before.get(id)!) throw new Error(`store ${id} has not compacted yet`)
          }
        },
        15_000
      )
      await cluster.startStore(leader)
      const outputOf = cluster.output
      await eventuallyAsync(
        "the restarted store to apply a snapshot",
        async () => {
          if (!/applied a snapshot/.test(outputOf(`store-${leader}`))) throw new Error("no snapshot applied yet")
        },
        15_000
      )
      // now stop one survivor: the restarted store must be in the new majority with the full state
      const other = cluster.stores.map((s) => s.id).find((id) => id !== leader)!
      await cluster.killStore(other)
      await eventuallyAsync("a write after the second kill", () => kv.put("after-second-kill", "yes"), 15_000)
      for (let i = 0; i < 100; i += 9) assert.strictEqual(await kv.getString(`while-down-${i}`), `w${i}`)
      for (let i = 0; i < 30; i += 7) assert.strictEqual(await kv.getString(`before-${i}`), `v${i}`)
      assert.match(cluster.output(`store-${leader}`), /snapshot/i)
    } finally {
      await kv.close()
    }
  }, 120_000)

  it("every write acknowledged before kill -9 of all processes is there after a restart", async () => {
    assertBuilt()
    cluster = await startProcessCluster({ stores: 3 })
    const kv = await connect({ scheduler: cluster.scheduler, deadline: "20 seconds" })
    const acked: Array<number> = []
    try {
      await eventuallyAsync("the cluster to take a write", () => kv.put("warmup", "1"), 30_000)
      // concurrent writers; the kill lands while some writes are in flight
      let stop = false
      const writers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const n = w * 1_000_000 + i
          try {
            await kv.put(`acked-${n}`, String(n))
            acked.push(n)
          } catch {
            return
          }
        }
      })
      await eventuallyAsync(
        "some writes to be acknowledged",
        async () => {
          if (acked.length < 50) throw new Error(`${acked.length} acknowledged`)
        },
        20_000
      )
      await cluster.killAll()
      stop = true
      await Promise.all(writers)
    } finally {
      await kv.close()
    }
    assert.isAbove(acked.length, 20)
    await cluster.startScheduler()
    await Promise.all(cluster.stores.map((s) => cluster!.startStore(s.id)))
    const again = await connect({ scheduler: cluster.scheduler, deadline: "20 seconds" })
    try {
      await eventuallyAsync("the restarted cluster to answer", () => again.get("warmup"), 30_000)
      const missing: Array<number> = []
      for (const n of acked) if ((await again.getString(`acked-${n}`)) !== String(n)) missing.push(n)
      assert.deepStrictEqual(missing, [])
    } finally {
      await again.close()
    }
  }, 120_000)
})
