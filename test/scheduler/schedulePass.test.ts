/** A coordinator pass fills the balance limits, each proposal seeing the ones accepted before it. */
import { assert, describe, it } from "@effect/vitest"
import { defaultScheduleConfig } from "../../src/scheduler/config.js"
import { schedulePass } from "../../src/scheduler/schedulePass.js"
import type { ClusterView, Proposal } from "../../src/scheduler/view.js"
import { counter, ri, sv } from "./viewFixtures.js"

/** A cluster of `regions` regions on stores 1–3, all led by store 1; accepted transfers count as done. */
const skewed = (regions: number, leaderScheduleLimit: number) => {
  const infos = Array.from({ length: regions }, (_, i) => ri(i + 1, [1, 2, 3], { leaderStore: 1 }))
  const accepted: Array<Proposal> = []
  const view = (): ClusterView => {
    const leaders = new Map([
      [1, regions],
      [2, 0],
      [3, 0]
    ])
    for (const p of accepted) {
      for (const step of p.steps) {
        if (step._tag !== "TransferLeader") continue
        leaders.set(step.fromStore, leaders.get(step.fromStore)! - 1)
        leaders.set(step.toStore, leaders.get(step.toStore)! + 1)
      }
    }
    return {
      config: { ...defaultScheduleConfig, leaderScheduleLimit },
      stores: new Map([1, 2, 3].map((id) => [id, sv(id, { leaderCount: leaders.get(id)! })])),
      regions: infos,
      busyRegions: new Set(accepted.map((p) => p.regionId)),
      running: new Map([["balance-leader", accepted.length]])
    }
  }
  return { view, accepted, accept: (p: Proposal) => void accepted.push(p) }
}

describe("schedulePass", () => {
  it("starts balance-leader operators up to the limit in one pass, spread over the targets", () => {
    const { view, accept, accepted } = skewed(30, 8)
    const started = schedulePass(view, accept, counter())
    assert.strictEqual(started.length, 8)
    assert.deepStrictEqual(accepted, [...started])
    assert.strictEqual(new Set(started.map((p) => p.regionId)).size, 8, "one operator per region")
    const targets = started.map((p) => (p.steps[0]?._tag === "TransferLeader" ? p.steps[0].toStore : 0))
    assert.strictEqual(targets.filter((t) => t === 2).length, 4)
    assert.strictEqual(targets.filter((t) => t === 3).length, 4)
  })

  it("stops once the leaders are balanced, below the limit", () => {
    // 6 leaders on store 1: after 2 to store 2 and 2 to store 3 the counts are 2/2/2
    const { view, accept } = skewed(6, 16)
    assert.strictEqual(schedulePass(view, accept, counter()).length, 4)
    assert.strictEqual(schedulePass(view, accept, counter()).length, 0)
  })
})
