/** MsgAppend size limit: a far-behind follower is caught up in bounded messages, not one huge one. */
import { assert, describe, it } from "@effect/vitest"
import { MAX_APPEND_BYTES, MemoryStorage } from "../../src/raft/index.js"
import { msg, newTestRaft } from "./helpers.js"

describe("MsgAppend size", () => {
  it("splits a large backlog into messages of at most MAX_APPEND_BYTES (one entry always goes)", () => {
    const r = newTestRaft(1, [1, 2], 10, 1, new MemoryStorage())
    r.becomeCandidate()
    r.becomeLeader()
    r.readMessages()
    const big = new Uint8Array(Math.floor(MAX_APPEND_BYTES / 3) + 1)
    for (let i = 0; i < 7; i++) {
      r.step(
        msg({
          msgType: "MsgPropose",
          from: 1,
          to: 1,
          entries: [{ entryType: "EntryNormal", term: 0, index: 0, data: big }]
        })
      )
    }
    r.readMessages()
    // the follower acknowledges nothing yet: probe from the start of the log
    r.prs.get(2)!.next = 1
    r.sendAppend(2)
    const [first] = r.readMessages()
    assert.strictEqual(first?.msgType, "MsgAppend")
    const bytes = first!.entries.reduce((n, e) => n + e.data.length, 0)
    assert.isAtMost(bytes, MAX_APPEND_BYTES)
    assert.isAtLeast(first!.entries.length, 1)
    assert.isBelow(first!.entries.length, 8)
    // progress only advances past what was sent, so the next append continues from there
    assert.strictEqual(r.prs.get(2)!.next, first!.entries[first!.entries.length - 1]!.index + 1)
  })
})
