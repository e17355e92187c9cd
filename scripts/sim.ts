/**
 * `npm run sim`: deterministic whole-cluster simulation runs, one per seed, each checked for
 * linearizability, the bank total and the Raft invariants. Prints one JSON line per failing seed (with its
 * replay command) and a JSON summary with seeds/s and CPU seconds.
 *
 *   npm run sim -- --seeds 1000            seeds 1..1000 (default 100)
 *   npm run sim -- --seed 42               replay one seed, printing its faults and verdict
 *   npm run sim -- --seeds 200 --broken ack-before-fsync   the self-test: a deliberately broken cluster
 *                                          (ack-before-fsync, apply-skips-epoch, leader-reads-locally)
 *   npm run sim -- --seeds 1000 --slice    what `npm test` runs per seed (fewer operations, denser faults)
 *   npm run sim -- --seeds 2000 --broken apply-skips-epoch --until-caught   stop at the first failing seed
 *   --ops N (raw operations per client), --fault-every MS (virtual time between faults), --transfers N (per
 *   bank client), --audits N override either
 */
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
  ...(broken !== "none" ? { broken } : {})
}
const one = arg("seed")
/** Stop at the first failing seed (how a broken variant's first catch is measured). */
const untilCaught = process.argv.includes("--until-caught")
const first = Number(arg("start") ?? 1)
const count = Number(arg("seeds") ?? 100)
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => first + i)

const main = async () => {
  const started = Date.now()
  const cpu = process.cpuUsage()
  const verdicts: Record<string, number> = {}
  let operations = 0
  let faults = 0
  let transfers = 0
  let raftEntries = 0
  let regions = 0
  let ran = 0
  const failures: Array<number> = []
  /** Seeds where a key or the bank could not be read after healing (liveness, not safety). */
  const unreadable: Array<number> = []
  for (const seed of seeds) {
    const r = await Effect.runPromise(simulate({ ...shape, seed }))
    ran++
    verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1
    operations += r.operations
    faults += r.faults.length
    transfers += r.bank.committed
    raftEntries += r.raftEntries
    regions += r.regions
    if (r.unreadKeys > 0 || r.finalAuditFailed) unreadable.push(seed)
    if (one !== undefined) console.log(JSON.stringify(r, null, 2))
    else if (r.verdict !== "Ok") {
      failures.push(seed)
      console.log(JSON.stringify({ seed, verdict: r.verdict, replay: replayCommand(seed, shape), report: r.report }))
      if (untilCaught) break
    }
  }
  const seconds = (Date.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  console.log(
    JSON.stringify({
      seeds: ran,
      broken,
      verdicts,
      failures,
      unreadable,
      operations,
      transfers,
      raftEntries,
      regionsAtEnd: regions,
      faults,
      seconds: Number(seconds.toFixed(1)),
      // wall time depends on what else the machine runs; CPU time much less so
      cpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(1)),
      seedsPerSecond: Number((ran / seconds).toFixed(2))
    })
  )
  process.exit(failures.length > 0 ? 1 : 0)
}

void main()
