import { it } from "@effect/vitest"
import { Effect } from "effect"
import { simulate } from "../../src/testing/sim/simulate.js"
it.live("one", () => Effect.gen(function* () {
  for (let seed = 1; seed <= 12; seed++) {
    const t = Date.now()
    const r = yield* simulate({ seed, opsPerClient: 20, faultEveryMs: 250, broken: "ack-before-fsync" })
    console.log(JSON.stringify({ seed, verdict: r.verdict, virtualMs: r.virtualMs, ops: r.operations, crashes: r.faults.filter(f => f.kind === "crash").length, ms: Date.now() - t, rep: r.report?.slice(0, 300) }))
  }
}), 900_000)
