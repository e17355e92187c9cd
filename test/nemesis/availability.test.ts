/** The nemesis's unavailability figures: the longest stretch without a success in a fault's window. */
import { assert, describe, it } from "@effect/vitest"
import { calmGaps, gapsByFault, longestGap, longestGapAt } from "../../src/nemesis/availability.js"
import type { FaultRecord } from "../../src/nemesis/faults.js"

describe("unavailability", () => {
  it("counts from the window's start, between successes, and up to its end", () => {
    assert.deepStrictEqual(longestGapAt([105, 110, 400, 420], 100, 500), { ms: 290, start: 110 })
    assert.deepStrictEqual(longestGapAt([450], 100, 500), { ms: 350, start: 100 })
    assert.deepStrictEqual(longestGapAt([120], 100, 1000), { ms: 880, start: 120 })
    // successes outside the window do not count
    assert.strictEqual(longestGap([50, 900], 100, 500), 400)
  })

  it("gives each fault its own window, up to the next fault", () => {
    const fault = (at: number, leader: boolean): FaultRecord => ({
      kind: "pause",
      store: 1,
      leader,
      at,
      undoneAt: at + 50
    })
    const gaps = gapsByFault([fault(1000, true), fault(2000, false)], [1010, 1900, 2005, 2100, 2200], 2300)
    assert.deepStrictEqual(
      gaps.map((g) => [g.gapMs, g.gapFromMs, g.heldMs, g.leader]),
      [
        [890, 10, 50, true],
        [100, 100, 50, false]
      ]
    )
  })

  it("the control measures the calm stretches only: from a settling time after each undoing to the next fault", () => {
    const fault = (at: number, undoneAt: number): FaultRecord => ({
      kind: "kill",
      store: 1,
      leader: false,
      at,
      undoneAt
    })
    const faults = [fault(1000, 2000), fault(5000, 6000), fault(6600, 7000)]
    // a 1 s gap inside the first fault does not count; the calm [3000, 5000) has a 400 ms gap
    const successes = [1000, 2000, 3000, 3100, 3500, 3600, 4800, 4900, 6500]
    const calm = calmGaps(faults, successes, 1_000, 500)
    // [3000, 5000): longest 1200 (3600 → 4800); [7000, 6600) is empty; the last fault has no calm after it
    assert.deepStrictEqual(calm, { faults: 1, medianMs: 1200, maxMs: 1200 })
  })
})
