/**
 * `Config.lazyCommit`: a leader whose commit index advances sends nothing for it alone; followers learn it from
 * the next append or heartbeat — but a commit past a conf change goes out at once. Without it (the default), the commit is broadcast at once (`paper.test.ts`,
 * TestLeaderCommitEntry2AB).
 */
import { assert, describe, it } from "@effect/vitest"
import { EMPTY_DATA, encodeConfChange, MemoryStorage, Raft } from "../../src/raft/index.js"
import { acceptAndReply, beat, commitNoopEntry, hup, msg, newTestConfig, propose } from "./helpers.js"
import { newNetworkWithConfig } from "./network.js"

const lazyLeader = () => {
  const s = new MemoryStorage()
  const r = new Raft({ ...newTestConfig(1, [1, 2, 3], 10, 1, s), lazyCommit: true })
  r.becomeCandidate()
  r.becomeLeader()
  commitNoopEntry(r, s)
  return r
}

describe("lazy commit", () => {
  it("a commit sends no append of its own; the next heartbeat and the next append carry it", () => {
    const r = lazyLeader()
    const li = r.raftLog.lastIndex()
    r.step(propose(1, 1, "some data"))
    for (const m of r.readMessages()) r.step(acceptAndReply(m))
    assert.strictEqual(r.raftLog.committed, li + 1)
    assert.deepStrictEqual(r.readMessages(), [], "nothing sent for the commit alone")

    r.step(beat(1))
    assert.deepStrictEqual(
      r.readMessages().map((m) => [m.to, m.msgType, m.commit]),
      [
        [2, "MsgHeartbeat", li + 1],
        [3, "MsgHeartbeat", li + 1]
      ]
    )
    r.step(propose(1, 1, "more"))
    assert.deepStrictEqual(
      r.readMessages().map((m) => [m.to, m.msgType, m.commit, m.entries.length]),
      [
        [2, "MsgAppend", li + 1, 1],
        [3, "MsgAppend", li + 1, 1]
      ]
    )
  })

  it("followers commit what the leader committed once its heartbeat reaches them", () => {
    const nw = newNetworkWithConfig(
      (c) => {
        c.lazyCommit = true
      },
      undefined,
      undefined,
      undefined
    )
    nw.send(hup(1))
    nw.send(propose(1, 1, "x"))
    const leader = nw.peers.get(1) as Raft
    const follower = nw.peers.get(2) as Raft
    const committed = leader.raftLog.committed
    assert.strictEqual(leader.raftLog.lastIndex(), committed, "the leader committed the proposal")
    assert.isBelow(follower.raftLog.committed, committed, "the follower has not heard of it yet")
    nw.send(beat(1))
    for (const id of [2, 3]) assert.strictEqual((nw.peers.get(id) as Raft).raftLog.committed, committed)
  })

  it("a commit past a conf change is sent at once: a leader that removed itself would send nothing after it", () => {
    const r = lazyLeader()
    const data = encodeConfChange({ changeType: "RemoveNode", nodeId: 1, context: EMPTY_DATA })
    r.step(
      msg({
        msgType: "MsgPropose",
        from: 1,
        to: 1,
        entries: [{ entryType: "EntryConfChange", term: 0, index: 0, data }]
      })
    )
    const appends = r.readMessages()
    assert.lengthOf(appends, 2)
    r.step(acceptAndReply(appends[0]!))
    const committed = r.raftLog.committed
    assert.strictEqual(committed, r.pendingConfIndex, "the conf change committed")
    assert.deepStrictEqual(
      r.readMessages().map((m) => [m.to, m.msgType, m.commit]),
      [
        [2, "MsgAppend", committed],
        [3, "MsgAppend", committed]
      ]
    )
  })
})
