/**
 * The status listener of every process of a real cluster (`--status-addr`, assigned by the local cluster
 * as the playground does): `/health`, `/ready`, and `/metrics` — checked by Prometheus' own `promtool
 * check metrics` — after client writes and a transaction. Also: the processes, whose stdout is a pipe,
 * log JSON lines carrying their store annotation.
 */
import { execFileSync } from "node:child_process"
import { Effect } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { connect, type KvConnection } from "../../src/client/promise.js"
import { parsePrometheusText } from "../../src/status/promText.js"
import { eventually } from "../../src/testing/eventually.js"
import { assertBuilt } from "../support/cli.js"
import { type ProcessCluster, startProcessCluster } from "../support/processCluster.js"

const get = async (address: string, path: string) => {
  const r = await fetch(`http://${address}${path}`)
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() }
}

/** Retries `f` until it resolves, up to `ms`. */
const until = (what: string, f: () => Promise<unknown>, ms: number) =>
  Effect.runPromise(eventually(Effect.tryPromise(f), { what, timeout: `${ms} millis`, interval: "100 millis" }))

/** `promtool check metrics` on `text`: its exit code and what it said. */
const promtool = (text: string): { code: number; output: string } => {
  try {
    return { code: 0, output: execFileSync("promtool", ["check", "metrics"], { input: text }).toString() }
  } catch (e) {
    const err = e as { code?: string; status?: number; stdout?: Buffer; stderr?: Buffer }
    // the check cannot pass without the tool: say so rather than report an empty failure
    if (err.code === "ENOENT") return { code: 127, output: "promtool not found: install prometheus (.ci/run does)" }
    return { code: err.status ?? 1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` }
  }
}

const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  parsePrometheusText(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)

describe("status listeners of a cluster of real processes", () => {
  let cluster: ProcessCluster
  let kv: KvConnection

  beforeAll(async () => {
    assertBuilt()
    cluster = await startProcessCluster({ stores: 3 })
    kv = await connect({ scheduler: cluster.scheduler, deadline: "20 seconds" })
    await until("the cluster to take a write", () => kv.put("warmup", "1"), 40_000)
  }, 90_000)

  afterAll(async () => {
    await kv?.close()
    await cluster?.cleanup()
  })

  it("/health answers 200 on every process, naming its service", async () => {
    const scheduler = await get(cluster.schedulerStatus, "/health")
    assert.strictEqual(scheduler.status, 200)
    assert.deepStrictEqual(JSON.parse(scheduler.body), { status: "ok", service: "scheduler" })
    for (const s of cluster.stores) {
      const store = await get(s.statusAddress, "/health")
      assert.strictEqual(store.status, 200)
      assert.deepStrictEqual(JSON.parse(store.body), { status: "ok", service: "store" })
    }
  })

  it("/ready: the scheduler serves; every store serves its region once its leader is known", async () => {
    const scheduler = JSON.parse((await get(cluster.schedulerStatus, "/ready")).body)
    assert.include(scheduler, { ready: true, bootstrapped: true, stores: 3 })
    for (const s of cluster.stores) {
      await until(
        `store ${s.id} to be ready`,
        async () => {
          const r = await get(s.statusAddress, "/ready")
          const body = JSON.parse(r.body)
          if (r.status !== 200) throw new Error(`store ${s.id}: ${r.status} ${r.body}`)
          assert.include(body, { ready: true, storeId: s.id, closed: false, regionsWithoutLeader: 0 })
          assert.isAtLeast(body.regions, 1)
        },
        20_000
      )
    }
  })

  it("/metrics is Prometheus text that promtool accepts, with the store's and the scheduler's metrics", async () => {
    for (let i = 0; i < 10; i++) await kv.put(`metrics-${i}`, `v${i}`)
    assert.strictEqual(await kv.getString("metrics-3"), "v3")
    await kv.transact(async (txn) => txn.set("metrics-txn", "t"))

    const stores = await Promise.all(cluster.stores.map((s) => get(s.statusAddress, "/metrics")))
    const scheduler = await get(cluster.schedulerStatus, "/metrics")
    for (const m of [...stores, scheduler]) {
      assert.strictEqual(m.status, 200)
      assert.match(m.type, /^text\/plain; version=0\.0\.4/)
      const check = promtool(m.body)
      assert.strictEqual(check.code, 0, `promtool check metrics: ${check.output}`)
    }
    const all = stores.map((s) => s.body).join("\n")
    // the writes and reads went to the region's leader: counted by command and outcome, with latencies
    assert.isAtLeast(value(all, "tinykv_requests_total", { command: "RawPut", outcome: "ok" }), 11)
    assert.isAtLeast(value(all, "tinykv_requests_total", { command: "RawGet", outcome: "ok" }), 1)
    assert.isAtLeast(value(all, "tinykv_requests_total", { command: "KvCommit", outcome: "ok" }), 1)
    assert.isAtLeast(value(all, "tinykv_request_duration_seconds_count", { command: "RawPut" }), 11)
    assert.isAtLeast(value(all, "tinykv_request_duration_seconds_bucket", { command: "RawPut", le: "+Inf" }), 11)
    assert.isAtLeast(value(all, "tinykv_raft_proposals_total"), 11)
    assert.isAbove(value(all, "tinykv_raft_rounds_total"), 0)
    assert.isAbove(value(all, "tinykv_engine_write_duration_seconds_count", { sync: "true" }), 0)
    // one region with three replicas, one of them leading
    assert.strictEqual(value(all, "tinykv_regions"), 3)
    assert.strictEqual(value(all, "tinykv_leaders"), 1)
    assert.include(all, "tinykv_raft_apply_lag_entries{")
    // the scheduler: heartbeats, the transaction's timestamps, the cluster it sees
    const s = scheduler.body
    // stores heartbeat on their own period: wait for the first one
    await until(
      "a store heartbeat counted by the scheduler",
      async () => {
        const later = (await get(cluster.schedulerStatus, "/metrics")).body
        assert.isAbove(value(later, "tinykv_scheduler_requests_total", { command: "StoreHeartbeat", outcome: "ok" }), 0)
      },
      30_000
    )
    assert.isAbove(value(s, "tinykv_scheduler_requests_total", { command: "RegionHeartbeat", outcome: "ok" }), 0)
    assert.isAtLeast(value(s, "tinykv_scheduler_tso_timestamps_total"), 2)
    assert.strictEqual(value(s, "tinykv_scheduler_stores", { state: "Up" }), 3)
    assert.strictEqual(value(s, "tinykv_scheduler_regions"), 1)
  })

  it("logs JSON lines with the store's annotations when stdout is not a terminal", () => {
    const lines = cluster
      .output("store-1")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { message: unknown; logLevel: string; annotations: Record<string, unknown> })
    const started = lines.find((l) => String(l.message).includes("started with"))
    assert.isDefined(started, `no JSON "store started" line in:\n${cluster.output("store-1")}`)
    assert.strictEqual(started!.logLevel, "INFO")
    assert.strictEqual(started!.annotations.storeId, 1)
  })
})
