/**
 * `npm run sim`: deterministic whole-cluster simulation runs, one per seed, each checked for
 * linearizability, the bank total and the Raft invariants. Prints one JSON line per failing seed (with its
 * replay command) and a JSON summary with seeds/s and CPU seconds.
 *
 *   npm run sim -- --seeds 1000            seeds 1..1000 (default 100)
 *   npm run sim -- --seeds 10000 --jobs 2  the same range split over 2 child processes (seed i goes to job
 *                                          i mod 2); a progress line every 60 s, one summary for all
 *   npm run sim -- --seed 42               replay one seed, printing its faults and verdict
 *   npm run sim -- --seeds 200 --broken ack-before-fsync   the self-test: a deliberately broken cluster
 *                                          (ack-before-fsync, apply-skips-epoch, leader-reads-locally, lease-too-long,
 *                                          no-log-mending: raft logs of their own, not mended at start)
 *   npm run sim -- --seeds 1000 --slice    what `npm test` runs per seed (fewer operations, denser faults)
 *   npm run sim -- --seeds 2000 --broken apply-skips-epoch --until-caught   stop at the first failing seed
 *   npm run sim -- --seeds 500 --raft-log  the stores keep their raft space in a raft log of its own
 *   --ops N (raw operations per client), --fault-every MS (virtual time between faults), --transfers N (per
 *   bank client), --audits N, --clients N (raw clients), --keys N (contended keys),
 *   --value-bytes N (raw values padded, so the raw keys split too) override either
 */
import { fork } from "node:child_process"
import { Effect } from "effect"
import {
  BROKEN,
  type Broken,
  replayCommand,
  type SimOptions,
  simulate,
  sliceOptions
} from "../src/testing/sim/simulate.js"

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const broken = (arg("broken") ?? "none") as Broken
if (!BROKEN.includes(broken)) {
  console.error(`--broken must be one of ${BROKEN.join(", ")}`)
  process.exit(2)
}
const shape: Partial<SimOptions> = {
  ...(process.argv.includes("--slice") ? sliceOptions : {}),
  ...(arg("ops") !== undefined ? { opsPerClient: Number(arg("ops")) } : {}),
  ...(arg("fault-every") !== undefined ? { faultEveryMs: Number(arg("fault-every")) } : {}),
  ...(arg("transfers") !== undefined ? { transfersPerClient: Number(arg("transfers")) } : {}),
  ...(arg("audits") !== undefined ? { audits: Number(arg("audits")) } : {}),
  ...(arg("clients") !== undefined ? { clients: Number(arg("clients")) } : {}),
  ...(arg("keys") !== undefined ? { keys: Number(arg("keys")) } : {}),
  ...(arg("value-bytes") !== undefined ? { valueBytes: Number(arg("value-bytes")) } : {}),
  ...(broken !== "none" ? { broken } : {}),
  ...(process.argv.includes("--raft-log") ? { raftLog: true } : {})
}
const one = arg("seed")
/** Stop at the first failing seed (how a broken variant's first catch is measured). */
const untilCaught = process.argv.includes("--until-caught")
const first = Number(arg("start") ?? 1)
const count = Number(arg("seeds") ?? 100)
const jobs = Math.max(1, Number(arg("jobs") ?? 1))
/** Set on a child of `--jobs`: "i/n", it runs the seeds whose offset from `--start` is i mod n. */
const shard = arg("shard")
const allSeeds = one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => first + i)
const seeds =
  shard === undefined
    ? allSeeds
    : allSeeds.filter((_, i) => i % Number(shard.split("/")[1]) === Number(shard.split("/")[0]))

/** What one process counted; a `--jobs` parent adds up its children's. */
interface Totals {
  ran: number
  verdicts: Record<string, number>
  failures: Array<number>
  /** Seeds where a key or the bank could not be read after healing (liveness, not safety). */
  unreadable: Array<number>
  operations: number
  transfers: number
  raftEntries: number
  regions: number
  faults: number
  /** Faults by kind (`partition`, `scheduler-restart`, …): what a run actually exercised. */
  faultKinds: Record<string, number>
  /** Replica pairs compared after healing, and regions whose replicas never reached one applied index. */
  replicaPairs: number
  unsettledRegions: number
  cpuMicros: number
}

const emptyTotals = (): Totals => ({
  ran: 0,
  verdicts: {},
  failures: [],
  unreadable: [],
  operations: 0,
  transfers: 0,
  raftEntries: 0,
  regions: 0,
  faults: 0,
  faultKinds: {},
  replicaPairs: 0,
  unsettledRegions: 0,
  cpuMicros: 0
})

const add = (into: Totals, t: Totals) => {
  into.ran += t.ran
  for (const [k, v] of Object.entries(t.verdicts)) into.verdicts[k] = (into.verdicts[k] ?? 0) + v
  into.failures.push(...t.failures)
  into.unreadable.push(...t.unreadable)
  into.operations += t.operations
  into.transfers += t.transfers
  into.raftEntries += t.raftEntries
  into.regions += t.regions
  into.faults += t.faults
  for (const [k, v] of Object.entries(t.faultKinds)) into.faultKinds[k] = (into.faultKinds[k] ?? 0) + v
  into.replicaPairs += t.replicaPairs
  into.unsettledRegions += t.unsettledRegions
  into.cpuMicros += t.cpuMicros
}

const summary = (t: Totals, seconds: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    seeds: t.ran,
    broken,
    verdicts: t.verdicts,
    failures: [...t.failures].sort((a, b) => a - b),
    unreadable: [...t.unreadable].sort((a, b) => a - b),
    operations: t.operations,
    transfers: t.transfers,
    raftEntries: t.raftEntries,
    regionsAtEnd: t.regions,
    faults: t.faults,
    faultKinds: t.faultKinds,
    replicaPairs: t.replicaPairs,
    unsettledRegions: t.unsettledRegions,
    ...extra,
    seconds: Number(seconds.toFixed(1)),
    // wall time depends on what else the machine runs; CPU time much less so
    cpuSeconds: Number((t.cpuMicros / 1e6).toFixed(1)),
    seedsPerSecond: Number((t.ran / seconds).toFixed(2))
  })

/** Runs `seeds` in this process; a child reports each seed and its totals to the parent. */
const runHere = async () => {
  const started = Date.now()
  const cpu = process.cpuUsage()
  const totals = emptyTotals()
  for (const seed of seeds) {
    const r = await Effect.runPromise(simulate({ ...shape, seed }))
    totals.ran++
    totals.verdicts[r.verdict] = (totals.verdicts[r.verdict] ?? 0) + 1
    totals.operations += r.operations
    totals.faults += r.faults.length
    for (const f of r.faults) totals.faultKinds[f.kind] = (totals.faultKinds[f.kind] ?? 0) + 1
    totals.transfers += r.bank.committed
    totals.raftEntries += r.raftEntries
    totals.regions += r.regions
    totals.replicaPairs += r.replicas.compared
    totals.unsettledRegions += r.replicas.unsettled
    if (r.unreadKeys > 0 || r.finalAuditFailed) totals.unreadable.push(seed)
    if (one !== undefined) console.log(JSON.stringify(r, null, 2))
    else if (r.verdict !== "Ok") {
      totals.failures.push(seed)
      console.log(JSON.stringify({ seed, verdict: r.verdict, replay: replayCommand(seed, shape), report: r.report }))
    }
    process.send?.({ _tag: "seed", failed: r.verdict !== "Ok" })
    if (untilCaught && r.verdict !== "Ok") break
  }
  const used = process.cpuUsage(cpu)
  totals.cpuMicros = used.user + used.system
  if (process.send !== undefined) {
    process.send({ _tag: "done", totals }, () => process.exit(0))
    return
  }
  console.log(summary(totals, (Date.now() - started) / 1000))
  process.exit(totals.failures.length > 0 ? 1 : 0)
}

/** Splits the seeds over `jobs` child processes (this script again, with `--shard`), then sums them up. */
const runJobs = async () => {
  const started = Date.now()
  const totals = emptyTotals()
  let done = 0
  let failed = 0
  const children = Array.from({ length: jobs }, (_, i) =>
    fork(process.argv[1]!, [...process.argv.slice(2), "--shard", `${i}/${jobs}`], { execArgv: process.execArgv })
  )
  const progress = setInterval(() => {
    const seconds = (Date.now() - started) / 1000
    console.log(
      JSON.stringify({
        progress: done,
        failed,
        seconds: Math.round(seconds),
        seedsPerSecond: Number((done / seconds).toFixed(2))
      })
    )
  }, 60_000)
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.on("message", (m: { _tag: "seed"; failed: boolean } | { _tag: "done"; totals: Totals }) => {
            if (m._tag === "seed") {
              done++
              if (m.failed) failed++
              // the first catch ends every job: the others' seeds are not needed
              if (m.failed && untilCaught) for (const c of children) if (c !== child) c.kill()
            } else add(totals, m.totals)
          })
          child.on("exit", () => resolve())
        })
    )
  )
  clearInterval(progress)
  console.log(summary(totals, (Date.now() - started) / 1000, { jobs }))
  process.exit(totals.failures.length > 0 || failed > 0 ? 1 : 0)
}

void (jobs > 1 && shard === undefined && one === undefined ? runJobs() : runHere())
