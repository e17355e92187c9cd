/**
 * `npm run nemesis`: the process-level nemesis. A scheduler and N stores as real processes on loopback,
 * concurrent clients, kill -9 / SIGSTOP / partitions one store at a time, the history checked for
 * linearizability; prints one JSON summary (ops, faults by kind, unavailability per fault kind, verdict)
 * and exits non-zero unless the verdict is `Ok` with no crashed process.
 *
 *   npm run nemesis -- --minutes 10 --seed 7
 *   npm run nemesis -- --minutes 1 --stores 5 --kinds kill,partition --logs ./nemesis-logs
 *   npm run nemesis -- --minutes 2 --seed 5 --timeline /tmp/timeline.json   (every fault and operation, timed)
 *
 * The processes run the built command (dist/), so the script builds first.
 */
import { writeFileSync } from "node:fs"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Logger, LogLevel } from "effect"
import { FAULT_KINDS, type FaultKind } from "../src/nemesis/faults.js"
import { runNemesis } from "../src/nemesis/runNemesis.js"

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const minutes = Number(arg("minutes") ?? 1)
const seed = Number(arg("seed") ?? Date.now() % 100_000)
const stores = Number(arg("stores") ?? 3)
const clients = Number(arg("clients") ?? 5)
const kinds = (arg("kinds")?.split(",") ?? [...FAULT_KINDS]) as Array<FaultKind>
const logs = arg("logs")
const timeline = arg("timeline")

if (!(minutes > 0) || !Number.isSafeInteger(seed) || ![3, 5].includes(stores) || !(clients > 0)) {
  console.error(
    "usage: npm run nemesis -- [--minutes M] [--seed N] [--stores 3|5] [--clients C] [--kinds k,..] [--logs DIR] [--timeline FILE]"
  )
  process.exit(2)
}
const unknown = kinds.filter((k) => !FAULT_KINDS.includes(k))
if (unknown.length > 0) {
  console.error(`unknown fault kinds: ${unknown.join(", ")} (known: ${FAULT_KINDS.join(", ")})`)
  process.exit(2)
}

// NodeRuntime.runMain interrupts on SIGINT/SIGTERM, which closes the scope: every child process is stopped
NodeRuntime.runMain(
  Effect.gen(function* () {
    const summary = yield* runNemesis({
      seed,
      duration: `${minutes * 60} seconds`,
      stores,
      clients,
      kinds,
      logDir: logs,
      progress: (line) => Console.error(`nemesis: ${line}`)
    })
    const replay = `npm run nemesis -- --minutes ${minutes} --seed ${seed} --stores ${stores}`
    // one line per fault, so the summary stays readable
    const faultGaps = summary.faultGaps.map(
      (g) =>
        `${g.kind} store ${g.store}${g.leader ? " (leader)" : ""}: held ${g.heldMs} ms, longest gap ${g.gapMs} ms from +${g.gapFromMs} ms`
    )
    if (timeline !== undefined) {
      // every fault and every operation with its times, to see what was in flight during a gap
      writeFileSync(timeline, JSON.stringify({ faults: summary.faultLog, ops: summary.timeline }))
    }
    yield* Console.log(
      JSON.stringify({ ...summary, faultLog: undefined, timeline: undefined, faultGaps, replay }, null, 2)
    )
    const ok = summary.verdict === "Ok" && summary.unexpectedExits.length === 0 && summary.ops.unreadKeys === 0
    process.exitCode = ok ? 0 : 1
  }).pipe(
    Effect.scoped,
    Effect.provide(NodeContext.layer),
    // the clients' own warnings (a store unreachable during a fault) are expected by the thousand
    Logger.withMinimumLogLevel(LogLevel.Error)
  )
)
