/**
 * Snapshot scenarios (TinyKV `raft/raft_test.go`, part 2C), plus snapshot catch-up through RawNode with a
 * compacted leader log.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Snapshot } from "../../src/protocol/eraftpb.js"
import {
  EMPTY_DATA,
  MemoryStorage,
  RawNode,
  type Storage,
  snapshotTemporarilyUnavailable
} from "../../src/raft/index.js"
import {
  beat,
  ent,
  hup,
  memoryStorageWithEnts,
  msg,
  newTestConfig,
  newTestRaft,
  nextEnts,
  ofType,
  propose
} from "./helpers.js"
import { newNetwork } from "./network.js"

const snapshot = (index: number, term: number, nodes: number[]): Snapshot => ({
  data: EMPTY_DATA,
  metadata: { index, term, confState: { nodes } }
})

describe("snapshots (2C)", () => {
  it("TestRestoreSnapshot2C: handleSnapshot resets log and members to the snapshot", () => {
    const s = snapshot(11, 11, [1, 2, 3])
    const sm = newTestRaft(1, [1, 2], 10, 1, new MemoryStorage())
    sm.handleSnapshot(msg({ msgType: "MsgSnapshot", snapshot: s }))
    assert.strictEqual(sm.raftLog.lastIndex(), 11)
    assert.strictEqual(sm.raftLog.term(11), 11)
    assert.deepStrictEqual(sm.nodes(), [1, 2, 3])
  })

  it("TestRestoreIgnoreSnapshot2C: a snapshot at or below the commit index is ignored", () => {
    const sm = newTestRaft(1, [1, 2], 10, 1, memoryStorageWithEnts([ent(1, 1), ent(1, 2), ent(1, 3)]))
    sm.raftLog.committed = 3
    sm.handleSnapshot(msg({ msgType: "MsgSnapshot", snapshot: snapshot(1, 1, [1, 2]) }))
    assert.strictEqual(sm.raftLog.committed, 3)
    assert.isUndefined(sm.raftLog.pendingSnapshot)
    assert.deepStrictEqual(
      sm.readMessages().map((m) => [m.msgType, m.index]),
      [["MsgAppendResponse", 3]]
    )
  })

  it("TestProvideSnap2C: a follower whose next entry is compacted gets exactly one MsgSnapshot", () => {
    // Restore from a snapshot so the log is compacted and there is a snapshot to send.
    const sm = newTestRaft(1, [1], 10, 1, new MemoryStorage())
    sm.handleSnapshot(msg({ msgType: "MsgSnapshot", snapshot: snapshot(11, 11, [1, 2]) }))
    sm.becomeCandidate()
    sm.becomeLeader()
    sm.readMessages()
    // Force node 2's next below the snapshot index so it needs a snapshot.
    sm.prs.get(2)!.next = 10
    sm.step(propose(2, 1, "somedata"))
    const msgs = sm.readMessages()
    assert.strictEqual(msgs.length, 1)
    assert.strictEqual(msgs[0]!.msgType, "MsgSnapshot")
    assert.strictEqual(msgs[0]!.snapshot?.metadata.index, 11)
  })

  it("TestRestoreFromSnapMsg2C: the sender of a snapshot becomes the known leader", () => {
    const sm = newTestRaft(2, [1, 2], 10, 1, new MemoryStorage())
    sm.step(msg({ msgType: "MsgSnapshot", from: 1, term: 2, snapshot: snapshot(11, 11, [1, 2]) }))
    assert.strictEqual(sm.lead, 1)
  })

  it("TestRestoreFromSnapWithOverlapingPeersMsg2C: members come from the snapshot's ConfState", () => {
    const sm = newTestRaft(2, [1, 2, 3], 10, 1, new MemoryStorage())
    sm.step(msg({ msgType: "MsgSnapshot", from: 1, term: 2, snapshot: snapshot(11, 11, [2, 3, 4]) }))
    assert.strictEqual(sm.lead, 1)
    assert.deepStrictEqual(sm.nodes(), [2, 3, 4])
  })

  it("TestSlowNodeRestore2C: an isolated follower catches up with the leader's commit after compaction", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    for (let j = 0; j <= 100; j++) nt.send(propose(1, 1))
    const lead = nt.raft(1)
    const s1 = nt.storage.get(1)!
    nextEnts(lead, s1)
    s1.createSnapshot(lead.raftLog.applied, { nodes: lead.nodes() })
    s1.compact(lead.raftLog.applied)
    nt.recover()
    // Heartbeats let the leader learn that 3 is back.
    nt.send(beat(1))
    nt.send(propose(1, 1))
    const follower = nt.raft(3)
    nt.send(propose(1, 1))
    assert.strictEqual(follower.raftLog.committed, lead.raftLog.committed)
  })
})

describe("snapshot extras", () => {
  // Same as TestSlowNodeRestore2C, but the leader's in-memory log is compacted too (as RawNode.advance does),
  // so catching up really goes through MsgSnapshot.
  it("a follower behind a compacted leader is restored through MsgSnapshot", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    for (let j = 0; j < 20; j++) nt.send(propose(1, 1, `v${j}`))
    const lead = nt.raft(1)
    const s1 = nt.storage.get(1)!
    nextEnts(lead, s1)
    s1.createSnapshot(lead.raftLog.applied, { nodes: lead.nodes() }, new Uint8Array([7]))
    s1.compact(lead.raftLog.applied)
    lead.raftLog.maybeCompact()
    assert.strictEqual(lead.raftLog.firstIndex(), lead.raftLog.applied + 1)
    nt.recover()
    let snaps = 0
    nt.msgHook = (m) => {
      if (m.msgType === "MsgSnapshot") snaps++
      return true
    }
    nt.send(beat(1))
    nt.send(propose(1, 1, "after"))
    const follower = nt.raft(3)
    assert.strictEqual(snaps, 1)
    assert.strictEqual(follower.raftLog.pendingSnapshot?.metadata.index, 21)
    assert.deepStrictEqual(follower.raftLog.pendingSnapshot?.data, new Uint8Array([7]))
    assert.strictEqual(follower.raftLog.committed, lead.raftLog.committed)
    assert.strictEqual(follower.raftLog.lastIndex(), lead.raftLog.lastIndex())
  })

  it("a snapshot whose last entry the follower already holds only advances the commit index", () => {
    const f = newTestRaft(2, [1, 2], 10, 1, memoryStorageWithEnts([ent(1, 1), ent(1, 2), ent(1, 3)]))
    f.step(msg({ msgType: "MsgSnapshot", from: 1, term: 1, snapshot: snapshot(2, 1, [1, 2]) }))
    assert.isUndefined(f.raftLog.pendingSnapshot)
    assert.strictEqual(f.raftLog.committed, 2)
    assert.strictEqual(f.raftLog.lastIndex(), 3)
  })

  it("a snapshot temporarily unavailable is retried later, not sent empty", () => {
    const base = memoryStorageWithEnts([1, 2, 3, 4, 5].map((i) => ent(1, i)))
    base.createSnapshot(5, { nodes: [1, 2] })
    base.compact(5)
    let ready = false
    const storage: Storage = {
      initialState: () => base.initialState(),
      entries: (lo, hi) => base.entries(lo, hi),
      term: (i) => base.term(i),
      lastIndex: () => base.lastIndex(),
      firstIndex: () => base.firstIndex(),
      snapshot: () => (ready ? base.snapshot() : snapshotTemporarilyUnavailable)
    }
    const lead = newTestRaft(1, [1, 2], 10, 1, storage)
    lead.becomeCandidate()
    lead.becomeLeader()
    lead.prs.get(2)!.next = 3
    assert.strictEqual(lead.sendAppend(2), false)
    assert.deepStrictEqual(lead.readMessages(), [])
    assert.strictEqual(lead.prs.get(2)!.next, 3)
    ready = true
    assert.strictEqual(lead.sendAppend(2), true)
    const out = lead.readMessages()
    assert.deepStrictEqual(
      out.map((m) => [m.msgType, m.snapshot?.metadata.index]),
      [["MsgSnapshot", 5]]
    )
    assert.strictEqual(lead.prs.get(2)!.next, 6)
  })

  it("RawNode hands the pending snapshot out once and installs it on advance", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(2, [1, 2], 10, 1, s))
    rn.step(msg({ msgType: "MsgSnapshot", from: 1, to: 2, term: 3, snapshot: snapshot(11, 2, [1, 2]) }))
    const rd = rn.ready()
    assert.strictEqual(rd.snapshot?.metadata.index, 11)
    assert.deepStrictEqual(rd.hardState, { term: 3, vote: 0, commit: 11 })
    assert.deepStrictEqual(rd.committedEntries, [])
    assert.deepStrictEqual(
      ofType(rd.messages, "MsgAppendResponse").map((m) => m.index),
      [11]
    )
    assert.strictEqual(rd.mustSync, true)
    s.applySnapshot(rd.snapshot!)
    s.setHardState(rd.hardState!)
    rn.advance(rd)
    assert.strictEqual(rn.hasReady(), false)
    assert.strictEqual(rn.raft.raftLog.firstIndex(), 12)
    assert.strictEqual(rn.raft.raftLog.term(11), 2)
  })
})
