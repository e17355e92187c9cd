/**
 * A short run of the process-level nemesis (`npm run nemesis`): real processes, real clients, kill -9,
 * SIGSTOP and partitions through the link proxies; the history must be linearizable, every fault kind must
 * actually have happened, no process may have crashed on its own, and every key must be readable at the end.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { runNemesis } from "../../src/nemesis/runNemesis.js"
import { assertBuilt } from "../support/cli.js"

describe("process nemesis", () => {
  it("30 s of kill -9, SIGSTOP, partitions and one-way cuts: linearizable, every fault kind happened, every key read at the end", async () => {
    assertBuilt()
    const summary = await Effect.runPromise(
      runNemesis({
        seed: 1,
        duration: "30 seconds",
        holdMs: [500, 2_000],
        calmMs: [500, 1_500]
      }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), Logger.withMinimumLogLevel(LogLevel.Error))
    )
    const context = JSON.stringify({ ...summary, faultLog: undefined, faultGaps: undefined, timeline: undefined })
    assert.strictEqual(summary.verdict, "Ok", context)
    for (const kind of ["kill", "pause", "partition", "one-way"] as const) {
      assert.isAtLeast(summary.faults[kind] ?? 0, 1, `no ${kind} fault happened: ${context}`)
    }
    assert.deepStrictEqual(summary.unexpectedExits, [], context)
    // liveness: once every fault was undone, the cluster serves every key again
    assert.strictEqual(summary.ops.unreadKeys, 0, context)
    // the clients did work under the faults: writes acknowledged and reads answered
    assert.isAbove(summary.ops.byKind.put.ok, 20, context)
    assert.isAbove(summary.ops.byKind.get.ok, 20, context)
    assert.isAbove(summary.ops.keys, 4, context)
  }, 180_000)
})
