/**
 * The scale goals (issue 11) on a fresh 3-store cluster of real processes (what `tinykv playground` runs):
 * `npm run bench -- scale [--regions 10000] [--keys 1000000] [--idle-seconds 30] [--split-concurrency 32]
 * [--load-concurrency 32] [--batch 64] [--profile DIR] [--skip-load] [--store-args "FLAGS"]`; `--store-args` are
 * extra flags for every store (e.g. `--region-heartbeat-idle-interval 500ms`, the old behaviour, to compare).
 *
 * 1. Creates R regions with admin splits (`tinykv ctl split`'s RPC) at R-1 sorted keys, as a tree: region
 *    [lo, hi) is split at its middle key, then both halves at once, so many splits run on different regions
 *    together (each waits for its region's next heartbeat to the scheduler). Then waits until the scheduler
 *    knows R regions and no operator runs (leader balancing moves leaders off the first store).
 * 2. Lets the cluster idle and measures each store's CPU over `--idle-seconds` (utime + stime from
 *    /proc/PID/stat) and its RSS (VmRSS of /proc/PID/status, also split into anonymous and file-backed pages:
 *    LMDB's memory map counts in VmRSS).
 * 3. Loads K keys of 128 B values through the cluster client (batch puts from concurrent loaders, spread over
 *    the regions), then measures RSS again.
 *
 * `--profile DIR` profiles each store's CPU during the idle window (a preloaded V8 profiler, see
 * `profilerPreload`; the profiles stay in DIR) and skips the load; the samples are summed per function (self
 * time) and the top ones reported (`profile`). Linux only (/proc).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { makeCtlClient } from "../src/cli/ctlClient.js"
import { connect } from "../src/client/promise.js"
import { type LocalCluster, startLocalCluster } from "../src/process/index.js"
import { makeSplitter, regionAt, waitSettled } from "./presplit.js"
import { cpuSeconds, memoryOf, pidOf } from "./procStats.js"

/** The limits. */
const LIMITS = { idleCpuPercentPerStore: 5, rssMiBPerStore: 300 }
const VALUE_BYTES = 128

const log = (message: string) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const enc = new TextEncoder()

/** Split keys: `r` followed by a zero-padded index, so they sort as numbers; data keys share the prefix. */
const splitKey = (i: number, regions: number) => `r${String(Math.floor(((i + 1) * 1e9) / regions)).padStart(10, "0")}`
const dataKey = (i: number, keys: number) => `r${String(Math.floor((i * 1e9) / keys)).padStart(10, "0")}-k${i}`

interface StoreSample {
  readonly store: number
  readonly pid: number
}

const measureIdle = async (stores: ReadonlyArray<StoreSample>, seconds: number) => {
  const before = stores.map((s) => cpuSeconds(s.pid))
  const start = performance.now()
  await sleep(seconds * 1000)
  const elapsed = (performance.now() - start) / 1000
  return stores.map((s, i) => ({
    store: s.store,
    pid: s.pid,
    cpuPercent: Math.round(((cpuSeconds(s.pid) - before[i]!) / elapsed) * 1000) / 10,
    ...memoryOf(s.pid)
  }))
}

const loadKeys = async (scheduler: string, keys: number, concurrency: number, batch: number) => {
  const value = new Uint8Array(VALUE_BYTES).fill(0x61)
  const conns = await Promise.all(
    Array.from({ length: concurrency }, () => connect({ scheduler, deadline: "60 seconds" }))
  )
  let next = 0
  let written = 0
  let retried = 0
  let lastLog = Date.now()
  try {
    await Promise.all(
      conns.map(async (kv) => {
        for (;;) {
          // each batch is `batch` consecutive keys: one or two regions, not a scatter over all of them
          const from = next
          if (from >= keys) return
          next = Math.min(keys, from + batch)
          const pairs = []
          for (let i = from; i < next; i++) pairs.push({ key: enc.encode(dataKey(i, keys)), value })
          // a batch put is idempotent, so one whose outcome is unknown (a timeout on a loaded machine) is sent again
          for (let attempt = 1; ; attempt++) {
            try {
              await kv.batchPut(pairs)
              break
            } catch (e) {
              if (attempt >= 10) throw e
              retried++
              await sleep(200 * attempt)
            }
          }
          written += pairs.length
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now()
            log(`loaded ${written}/${keys} keys (${retried} batches sent again)`)
          }
        }
      })
    )
  } finally {
    await Promise.all(conns.map((c) => c.close()))
  }
  return written
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    id: number
    callFrame: { functionName: string; url: string; lineNumber: number }
    children?: ReadonlyArray<number>
  }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/**
 * Node refuses `--cpu-prof` in NODE_OPTIONS, so each child preloads this (`--require`): SIGUSR2 starts the
 * V8 profiler, the next SIGUSR2 writes `<dir>/<pid>.cpuprofile`. Only the idle window is profiled.
 */
const profilerPreload = (dir: string) => `
const inspector = require("node:inspector")
const fs = require("node:fs")
const session = new inspector.Session()
session.connect()
let running = false
process.on("SIGUSR2", () => {
  if (!running) {
    running = true
    session.post("Profiler.enable", () => session.post("Profiler.setSamplingInterval", { interval: 1000 }, () => session.post("Profiler.start")))
  } else {
    running = false
    session.post("Profiler.stop", (err, r) => {
      if (!err) fs.writeFileSync(${JSON.stringify(dir)} + "/" + process.pid + ".cpuprofile.tmp", JSON.stringify(r.profile))
      fs.renameSync(${JSON.stringify(dir)} + "/" + process.pid + ".cpuprofile.tmp", ${JSON.stringify(dir)} + "/" + process.pid + ".cpuprofile")
    })
  }
})
`

/**
 * Self time per function over a whole profile, the top 30 (GC listed too, idle not), and inclusive time of
 * the project's functions, the top 60 (with a bundle built without minifying, they have their names).
 */
const summarizeProfile = (file: string) => {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile
  const names = new Map<number, string>()
  for (const n of profile.nodes) {
    const url = n.callFrame.url.replace(/^.*\/(node_modules|dist|src)\//, "$1/")
    names.set(n.id, `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`)
  }
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const byName = new Map<string, number>()
  // inclusive time: each function on a sample's stack, once per sample
  const inclusive = new Map<string, number>()
  let total = 0
  let idle = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const name = names.get(profile.samples[i]!) ?? "?"
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000
    total += ms
    if (name.startsWith("(idle)")) {
      idle += ms
      continue
    }
    byName.set(name, (byName.get(name) ?? 0) + ms)
    const seen = new Set<string>()
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const fn = names.get(id) ?? "?"
      if (seen.has(fn)) continue
      seen.add(fn)
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + ms)
    }
  }
  const busy = Math.max(1, total - idle)
  const top = [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)
    .map(([name, ms]) => ({ fn: name, ms: Math.round(ms), percentOfBusy: Math.round((ms / busy) * 1000) / 10 }))
  const topInclusive = [...inclusive.entries()]
    .filter(([name]) => name.includes("src/") || name.includes("dist/"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 60)
    .map(([name, ms]) => ({ fn: name, ms: Math.round(ms), percentOfBusy: Math.round((ms / busy) * 1000) / 10 }))
  return { file, totalMs: Math.round(total), busyMs: Math.round(busy), top, topInclusive }
}

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const regions = Number(flag("regions") ?? 10_000)
  const keys = Number(flag("keys") ?? 1_000_000)
  const idleSeconds = Number(flag("idle-seconds") ?? 30)
  const splitConcurrency = Number(flag("split-concurrency") ?? 32)
  const storeArgs =
    flag("store-args")
      ?.split(" ")
      .filter((a) => a !== "") ?? []
  const loadConcurrency = Number(flag("load-concurrency") ?? 32)
  const batch = Number(flag("batch") ?? 64)
  const profileDir = flag("profile")
  const skipLoad = args.includes("--skip-load") || profileDir !== undefined
  if (profileDir !== undefined) {
    mkdirSync(profileDir, { recursive: true })
    writeFileSync(join(profileDir, "preload.cjs"), profilerPreload(profileDir))
    process.env.NODE_OPTIONS = `--require ${join(profileDir, "preload.cjs")}`
  }
  const t0 = Date.now()
  const durations: Record<string, number> = {}
  const lap = (name: string, since: number) => {
    durations[name] = Math.round((Date.now() - since) / 100) / 10
  }

  let profile: unknown
  const result = await Effect.gen(function* () {
    const cluster: LocalCluster = yield* startLocalCluster({ stores: 3, stopGrace: "60 seconds", storeArgs })
    yield* cluster.waitUntilWritable("120 seconds")
    lap("startSeconds", t0)
    const stores = cluster.stores.map((s) => ({ store: s.id, pid: pidOf(s.dataDir) }))
    const ctl = yield* makeCtlClient(cluster.scheduler, "30 seconds")
    return yield* Effect.promise(async () => {
      // 1. regions
      const t1 = Date.now()
      const splitKeys = Array.from({ length: regions - 1 }, (_, i) => enc.encode(splitKey(i, regions)))
      const first = await regionAt(ctl, new Uint8Array())
      const splitter = makeSplitter(ctl, splitKeys, splitConcurrency)
      const ticker = setInterval(() => {
        const p = splitter.progress()
        log(`splits: ${p.done}/${regions - 1} done (${p.retries} refused or failed requests retried)`)
      }, 10_000)
      try {
        await splitter.split(first.region!.id, 0, splitKeys.length)
      } finally {
        clearInterval(ticker)
      }
      lap("splitSeconds", t1)
      const t2 = Date.now()
      const settled = await waitSettled(ctl, regions, 600_000, log)
      lap("settleSeconds", t2)
      // 2. idle
      log(`idle: measuring CPU over ${idleSeconds}s`)
      if (profileDir !== undefined) for (const s of stores) process.kill(s.pid, "SIGUSR2")
      const idle = await measureIdle(stores, idleSeconds)
      if (profileDir !== undefined) {
        for (const s of stores) process.kill(s.pid, "SIGUSR2")
        const deadline = Date.now() + 120_000
        while (!stores.every((s) => existsSync(join(profileDir, `${s.pid}.cpuprofile`))) && Date.now() < deadline) {
          await sleep(500)
        }
        profile = stores.map((s) => ({ store: s.store, ...summarizeProfile(join(profileDir, `${s.pid}.cpuprofile`)) }))
      }
      log(`idle: ${JSON.stringify(idle)}`)
      // 3. load
      let loaded = 0
      let afterLoad: Array<{ store: number; rssMiB: number; anonMiB: number; fileMiB: number }> = []
      if (!skipLoad) {
        const t3 = Date.now()
        loaded = await loadKeys(cluster.scheduler, keys, loadConcurrency, batch)
        lap("loadSeconds", t3)
        log(`loaded ${loaded} keys; letting the stores settle for 10s`)
        await sleep(10_000)
        afterLoad = stores.map((s) => ({ store: s.store, ...memoryOf(s.pid) }))
        log(`after load: ${JSON.stringify(afterLoad)}`)
      }
      const idleOk = idle.every((s) => s.cpuPercent <= LIMITS.idleCpuPercentPerStore)
      const rssOk = skipLoad ? undefined : afterLoad.every((s) => s.rssMiB <= LIMITS.rssMiBPerStore)
      return {
        regions: settled.regions,
        leadersPerStore: settled.leadersPerStore,
        idleSeconds,
        idle: idle.map((s) => ({
          store: s.store,
          cpuPercent: s.cpuPercent,
          rssMiBBefore: s.rssMiB,
          anonMiBBefore: s.anonMiB,
          fileMiBBefore: s.fileMiB
        })),
        keys: loaded,
        valueBytes: VALUE_BYTES,
        rssMiBAfterLoad: afterLoad,
        goals: {
          idleCpu: { limitPercent: LIMITS.idleCpuPercentPerStore, met: idleOk },
          rss: { limitMiB: LIMITS.rssMiBPerStore, met: rssOk ?? "not measured (--skip-load)" },
          raftLogBounded: "not measured by this suite"
        }
      }
    })
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.runPromise)
  lap("totalSeconds", t0)

  return {
    bench: "scale",
    storeArgs,
    loadAverage: (await import("node:os")).loadavg().map((x) => Math.round(x * 100) / 100),
    ...result,
    durations,
    ...(profile === undefined ? {} : { profile })
  }
}
