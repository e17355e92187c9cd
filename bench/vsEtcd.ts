/**
 * TinyKV-TS beside etcd, on this machine, with the same closed-loop load generator (`workloads.ts`):
 * each rep starts a fresh 3-member etcd (`etcd.ts`) and a fresh 3-store TinyKV-TS cluster (as the
 * `cluster` suite does), runs the workloads against one and then the other (the order alternates per
 * rep, so a drift in the machine's load does not always favour the same side), and stops it.
 *
 * `npm run bench -- vs-etcd [--reps 2] [--workloads W1,W2,W3] [--ops W1=20000,W2=20000,W3=2000] [--seed 42]
 * [--regions 1] [--warmup 10000]`
 *
 * `--regions N` splits TinyKV-TS's key space into N regions of equal key ranges before the workloads (admin
 * splits, then until the leaders stopped moving), so that the scheduler spreads their leaders over the three
 * stores: the work of the writes and reads is then shared by every process, where etcd has one leader.
 *
 * `--warmup N`: each side first takes N puts of its own keys, untimed, on the same 64 connections. A fresh
 * Node process runs its first thousands of requests before V8 has optimised them: TinyKV-TS's W1, first in a
 * run, did 18–33 % fewer puts/s from cold than after 10,000 puts (docs/PERFORMANCE.md, 2026-12-08). A server is
 * measured at work, and etcd gets the same warm-up. `--warmup 0` measures from cold, as runs before 2026-12-08 did.
 *
 * The defaults are the sizes the comparison was first made with (20,000 puts, 20,000 gets, 2,000
 * sequential puts). Ratios are TinyKV-TS ÷ etcd of the medians over the reps: `opsPerSec` ≥ 1 and
 * `p50` ≤ 1 mean TinyKV-TS is at least as good. Exits non-zero, saying how to install it, without etcd.
 */
import { raftEngineArgs, raftEngineLabel, raftEngineOf } from "./flags.js"
import type { RaftEngine } from "../src/raftstore/config.js"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { loadavg } from "node:os"
import { Effect } from "effect"
import { startLocalCluster } from "../src/process/index.js"
import { parseOps, parseWarmup, runWorkloads, runWorkloadsOn } from "./cluster.js"
import { etcdMissing, etcdVersion, startEtcd } from "./etcd.js"
import { makeCtlClient } from "../src/cli/ctlClient.js"
import { makeSplitter, regionAt, waitSettled } from "./presplit.js"
import { splitKeysFor, type WorkloadId, type WorkloadResult } from "./workloads.js"

const DEFAULT_OPS: Record<WorkloadId, number> = { W1: 20_000, W2: 20_000, W3: 2_000 }
/** Untimed puts each side takes before its first workload (`--warmup`; see the header). */
const DEFAULT_WARMUP = 10_000

type Side = "etcd" | "tinykv"
interface RepResult {
  readonly rep: number
  readonly side: Side
  readonly loadAverage: ReadonlyArray<number>
  readonly results: ReadonlyArray<WorkloadResult & { system: string }>
}

const ETCD_SYSTEM =
  "etcd, 3 members (WAL fsync per commit), v3 JSON gateway, linearizable ranges, clients on the leader"
const tinykvSystem = (raftEngine: RaftEngine | undefined) =>
  `tinykv-ts, 3 stores (${raftEngineLabel(raftEngine)}), linearizable reads under the leader lease (ReadIndex when it has lapsed)`

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0
    ? 0
    : s.length % 2 === 1
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const round3 = (x: number) => Math.round(x * 1000) / 1000
const load = () => loadavg().map((x) => Math.round(x * 100) / 100)

const runEtcd = async (
  workloads: ReadonlyArray<WorkloadId>,
  seed: number,
  ops: Record<WorkloadId, number>,
  warmupOps: number
) => {
  const etcd = await startEtcd(3)
  const conns = etcd.connect(64)
  try {
    return await runWorkloadsOn(conns, workloads, seed, { ops, system: ETCD_SYSTEM, warmupOps })
  } finally {
    await Promise.all(conns.map((c) => c.close()))
    await etcd.stop()
  }
}

const log = (message: string) => process.stderr.write(`vs-etcd: ${message}\n`)

/** Splits the fresh cluster's key space into `regions` and waits until their leaders stopped moving. */
const presplit = (scheduler: string, regions: number) =>
  Effect.gen(function* () {
    const ctl = yield* makeCtlClient(scheduler, "30 seconds")
    return yield* Effect.promise(async () => {
      const keys = splitKeysFor(regions).map((k) => new TextEncoder().encode(k))
      const first = await regionAt(ctl, new Uint8Array())
      await makeSplitter(ctl, keys, 8).split(first.region!.id, 0, keys.length)
      return waitSettled(ctl, regions, 120_000, log)
    })
  })

const runTinykv = (
  workloads: ReadonlyArray<WorkloadId>,
  seed: number,
  ops: Record<WorkloadId, number>,
  regions: number,
  warmupOps: number,
  raftEngine: RaftEngine | undefined
) =>
  Effect.gen(function* () {
    const cluster = yield* startLocalCluster({ stores: 3, storeArgs: raftEngineArgs(raftEngine) })
    yield* cluster.waitUntilWritable("60 seconds")
    if (regions > 1) {
      const settled = yield* presplit(cluster.scheduler, regions)
      log(`${settled.regions} regions, leaders per store ${JSON.stringify(settled.leadersPerStore)}`)
    }
    const system =
      regions > 1
        ? `${tinykvSystem(raftEngine)}, key space pre-split into ${regions} regions`
        : tinykvSystem(raftEngine)
    return yield* Effect.promise(() => runWorkloads(cluster.scheduler, workloads, seed, { ops, system, warmupOps }))
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.runPromise)

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const missing = etcdMissing()
  if (missing !== undefined) {
    console.error(missing)
    process.exit(3)
  }
  const workloads = (flag("workloads") ?? "W1,W2,W3").split(",") as Array<WorkloadId>
  const seed = Number(flag("seed") ?? 42)
  const reps = Number(flag("reps") ?? 2)
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps: expected a positive integer, got ${flag("reps")}`)
  const ops = { ...DEFAULT_OPS, ...parseOps(flag("ops")) }
  const warmupOps = parseWarmup(flag("warmup"), DEFAULT_WARMUP)
  const regions = Number(flag("regions") ?? 1)
  const raftEngine = raftEngineOf(args)
  if (!Number.isInteger(regions) || regions < 1 || regions > 1000) {
    throw new Error(`--regions: expected an integer from 1 to 1000, got ${flag("regions")}`)
  }
  const runs: Array<RepResult> = []
  const started = new Date().toISOString()
  for (let rep = 1; rep <= reps; rep++) {
    const order: Array<Side> = rep % 2 === 1 ? ["etcd", "tinykv"] : ["tinykv", "etcd"]
    for (const side of order) {
      process.stderr.write(`vs-etcd: rep ${rep}/${reps}, ${side} (load average ${load().join(" ")})\n`)
      const loadAverage = load()
      const results =
        side === "etcd"
          ? await runEtcd(workloads, seed, ops, warmupOps)
          : await runTinykv(workloads, seed, ops, regions, warmupOps, raftEngine)
      runs.push({ rep, side, loadAverage, results })
    }
  }
  const of = (side: Side, w: WorkloadId) =>
    runs.filter((r) => r.side === side).map((r) => r.results.find((x) => x.workload === w)!)
  const summarize = (rs: ReadonlyArray<WorkloadResult>) => ({
    opsPerSec: median(rs.map((r) => r.opsPerSec)),
    p50Ms: round3(median(rs.map((r) => r.latencyMs.p50))),
    p99Ms: round3(median(rs.map((r) => r.latencyMs.p99))),
    errors: rs.reduce((n, r) => n + r.errors, 0),
    misses: rs.reduce((n, r) => n + r.misses, 0)
  })
  const comparison = workloads.map((w) => {
    const etcd = summarize(of("etcd", w))
    const tinykv = summarize(of("tinykv", w))
    return {
      workload: w,
      ops: ops[w],
      etcd,
      tinykv,
      ratio: {
        opsPerSec: round3(tinykv.opsPerSec / etcd.opsPerSec),
        p50: round3(tinykv.p50Ms / etcd.p50Ms),
        p99: round3(tinykv.p99Ms / etcd.p99Ms)
      }
    }
  })
  return {
    bench: "vs-etcd",
    started,
    etcd: etcdVersion(),
    seed,
    reps,
    ops,
    regions,
    warmupOps,
    raftEngine: raftEngine ?? "default",
    note: "ratio = tinykv ÷ etcd of the medians over the reps (opsPerSec ≥ 1, p50/p99 ≤ 1: tinykv at least as good)",
    comparison,
    runs
  }
}
