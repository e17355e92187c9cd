/**
 * Multi-raft on real processes (the multi-raft issue's process-level test): five stores with a small
 * split size under write load end with many regions, replicas and leaders spread over the stores; a
 * store killed for good is replaced — every region back to 3 live replicas — and nothing acknowledged
 * is lost. Observed the way an operator would: `tinykv ctl regions --json` / `ctl stores --json`.
 */
import { Effect } from "effect"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, startProcess } from "../../bench/standalone.js"
import { connect } from "../../src/client/promise.js"
import { eventually } from "../../src/testing/eventually.js"
import { assertBuilt, tinykv } from "../support/cli.js"
import { type ProcessCluster, startProcessCluster } from "../support/processCluster.js"

interface RegionRow {
  readonly id: number
  readonly startKey: string
  readonly endKey: string
  readonly peers: ReadonlyArray<{ readonly id: number; readonly storeId: number }>
  readonly leader: { readonly id: number; readonly storeId: number } | null
}
interface StoreRow {
  readonly id: number
  readonly state: string
  readonly regionCount: number
  readonly capacity: number
  readonly available: number
}

const ctlJson = async <A>(cluster: ProcessCluster, what: "regions" | "stores"): Promise<A> => {
  const r = await tinykv(["ctl", what, "--json", "--scheduler", cluster.scheduler], { timeoutMs: 30_000 })
  if (r.code !== 0) throw new Error(`ctl ${what} failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as A
}

/** Retries `check` (which throws while its condition does not hold) until it passes or `ms` pass. */
const waitFor = <A>(what: string, check: () => Promise<A>, ms: number): Promise<A> =>
  Effect.runPromise(
    eventually(Effect.tryPromise({ try: check, catch: (e) => new Error(e instanceof Error ? e.message : String(e)) }), {
      what,
      timeout: `${ms} millis`,
      interval: "250 millis"
    })
  )

/** The regions tile the key space: sorted by start key, each ends where the next starts. */
const assertTiles = (regions: ReadonlyArray<RegionRow>) => {
  const sorted = [...regions].sort((a, b) => (a.startKey < b.startKey ? -1 : 1))
  assert.strictEqual(sorted[0]!.startKey, "")
  assert.strictEqual(sorted.at(-1)!.endKey, "")
  for (let i = 1; i < sorted.length; i++) assert.strictEqual(sorted[i]!.startKey, sorted[i - 1]!.endKey)
}

describe("multi-raft on real processes", () => {
  let cluster: ProcessCluster | undefined
  afterEach(async () => {
    await cluster?.cleanup()
    cluster = undefined
  })

  it("5 stores, small split size: many regions spread over the stores; a store lost for good is replaced, a new store gets replicas, no write lost", async () => {
    assertBuilt()
    const started = await startProcessCluster({
      stores: 5,
      extraStoreArgs: ["--region-split-size", "4KiB", "--region-max-size", "6KiB", "--split-check-interval", "300ms"],
      extraSchedulerArgs: ["--max-store-down-time", "10s", "--schedule-interval", "200ms"]
    })
    cluster = started
    const kv = await connect({ scheduler: started.scheduler, deadline: "30 seconds" })
    try {
      await waitFor("the cluster to take a write", () => kv.put("warmup", "1"), 60_000)
      // an operator's split at a chosen key: `tinykv ctl split REGION_ID --key KEY`
      const [only] = await ctlJson<Array<RegionRow>>(started, "regions")
      const asked = await tinykv([
        "ctl",
        "split",
        String(only!.id),
        "--key",
        "user/0100",
        "--scheduler",
        started.scheduler
      ])
      assert.strictEqual(asked.code, 0, asked.stderr)
      const boundary = Buffer.from("user/0100").toString("hex")
      await waitFor(
        "the region split at user/0100",
        async () => {
          const regions = await ctlJson<Array<RegionRow>>(started, "regions")
          if (!regions.some((r) => r.startKey === boundary)) throw new Error(`no region starts at ${boundary}`)
        },
        60_000
      )
      const value = "v".repeat(200)
      const written: Array<string> = []
      // 8 writers × 40 keys × ~210 bytes ≈ 67 KB: about a dozen regions of 4 KiB and more
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 40; i++) {
            const key = `user/${String(i * 8 + w).padStart(4, "0")}`
            await kv.put(key, `${value}${key}`)
            written.push(key)
          }
        })
      )
      const spread = await waitFor(
        "many regions, 3 replicas each, replicas on every store, leaders on at least 3 stores",
        async () => {
          const regions = await ctlJson<Array<RegionRow>>(started, "regions")
          const replicaStores = new Set(regions.flatMap((r) => r.peers.map((p) => p.storeId)))
          const leaderStores = new Set(regions.flatMap((r) => (r.leader === null ? [] : [r.leader.storeId])))
          const ok =
            regions.length >= 8 &&
            regions.every((r) => r.peers.length === 3 && r.leader !== null) &&
            replicaStores.size === 5 &&
            leaderStores.size >= 3
          if (!ok) {
            throw new Error(
              `${regions.length} regions, peers per region ${regions.map((r) => r.peers.length).join(",")}, ` +
                `replicas on ${replicaStores.size} stores, leaders on ${leaderStores.size}`
            )
          }
          return regions
        },
        120_000
      )
      assertTiles(spread)
      const stores = await ctlJson<Array<StoreRow>>(started, "stores")
      assert.isTrue(stores.every((s) => s.capacity > 0 && s.available > 0 && s.available <= s.capacity))

      // a store that holds replicas dies for good: after --max-store-down-time it is Down and replaced
      const victim = 2
      await started.killStore(victim)
      await waitFor(
        "every region back to 3 live replicas, none on the dead store",
        async () => {
          const regions = await ctlJson<Array<RegionRow>>(started, "regions")
          const bad = regions.filter(
            (r) => r.peers.length !== 3 || r.peers.some((p) => p.storeId === victim) || r.leader === null
          )
          if (bad.length > 0) {
            throw new Error(`${bad.length} of ${regions.length} regions not repaired yet: ${JSON.stringify(bad)}`)
          }
        },
        120_000
      )
      const after = await ctlJson<Array<StoreRow>>(started, "stores")
      assert.strictEqual(after.find((s) => s.id === victim)?.state, "Down")

      // a store started later with nothing but --scheduler joins and receives replicas (balance-region)
      const joinDir = mkdtempSync(join(tmpdir(), "tinykv-join-"))
      const joinPort = await freePort()
      const joined = await startProcess(
        ["server", "--addr", `127.0.0.1:${joinPort}`, "--scheduler", started.scheduler, "--data", joinDir],
        /listening/
      )
      try {
        await waitFor(
          "the new store to hold replicas",
          async () => {
            const now = await ctlJson<Array<StoreRow>>(started, "stores")
            const fresh = now.find((s) => s.id > 5)
            if (fresh === undefined || fresh.state !== "Up" || fresh.regionCount === 0) {
              throw new Error(`new store: ${JSON.stringify(fresh)}`)
            }
          },
          120_000
        )
      } finally {
        await joined.stop()
        rmSync(joinDir, { recursive: true, force: true })
      }

      // every acknowledged write is there, by point reads and by a scan across every region
      for (const key of written) assert.strictEqual(await kv.getString(key), `${value}${key}`, key)
      const scanned = (await kv.scan("user/", { end: "user0", limit: 1000 })).map((p) =>
        new TextDecoder().decode(p.key)
      )
      const twice = scanned.filter((k, i) => scanned.indexOf(k) !== i)
      const missing = written.filter((k) => !scanned.includes(k))
      const extra = scanned.filter((k) => !written.includes(k))
      assert.deepStrictEqual({ twice, missing, extra }, { twice: [], missing: [], extra: [] })
      assert.deepStrictEqual(scanned, [...written].sort())
      // a transaction across regions: move a value from the first key to the last
      const [first, last] = [[...written].sort()[0]!, [...written].sort().at(-1)!]
      await kv.transact(async (txn) => {
        await txn.set(first, "moved")
        await txn.set(last, "moved")
      })
      assert.strictEqual(await kv.getString(first), `${value}${first}`, "raw and transactional data are separate")
      await kv.transact(async (txn) => {
        assert.strictEqual(await txn.getString(first), "moved")
        assert.strictEqual(await txn.getString(last), "moved")
      })
    } finally {
      await kv.close()
    }
  }, 420_000)
})
