/**
 * RawNode and the Ready/advance cycle (TinyKV `raft/rawnode_test.go`, parts 2AC, 2C and 3A).
 */
import { assert, describe, it } from "@effect/vitest"
import type { ConfChange, Entry, HardState, Snapshot } from "../../src/protocol/eraftpb.js"
import {
  decodeConfChange,
  EMPTY_DATA,
  encodeConfChange,
  MemoryStorage,
  RaftInvariantError,
  RawNode,
  type Ready,
  StepLocalMsg,
  StepPeerNotFound
} from "../../src/raft/index.js"
import { dec, enc, ent, msg, newTestConfig } from "./helpers.js"

/** A Ready with only the fields TinyKV's tests compare. */
const core = (rd: Ready) => ({
  softState: rd.softState,
  hardState: rd.hardState,
  entries: rd.entries,
  snapshot: rd.snapshot,
  committedEntries: rd.committedEntries,
  messages: rd.messages
})

const onlyEntries = (entries: Entry[], committedEntries: Entry[]) => ({
  softState: undefined,
  hardState: undefined,
  entries,
  snapshot: undefined,
  committedEntries,
  messages: []
})

describe("RawNode (2AC / 2C / 3A)", () => {
  // Propose and ProposeConfChange hand the proposal and the encoded ConfChange to the underlying raft.
  it("TestRawNodeProposeAndConfChange3A: proposals and conf changes land in the log", () => {
    const s = new MemoryStorage()
    const rawNode = new RawNode(newTestConfig(1, [1], 10, 1, s))
    let rd = rawNode.ready()
    s.append(rd.entries)
    rawNode.advance(rd)
    const d = rawNode.ready()
    assert.isUndefined(d.hardState)
    assert.strictEqual(d.entries.length, 0)
    rawNode.campaign()
    rd = rawNode.ready()
    assert.strictEqual(rd.softState?.lead, rawNode.raft.id)
    // Propose a command and a ConfChange.
    rawNode.propose(enc("somedata"))
    const cc: ConfChange = { changeType: "AddNode", nodeId: 1, context: EMPTY_DATA }
    const ccdata = encodeConfChange(cc)
    rawNode.proposeConfChange(cc)
    const entries = rawNode.raft.raftLog.entries
    assert.isAtLeast(entries.length, 2)
    const [a, b] = entries.slice(-2) as [Entry, Entry]
    assert.strictEqual(dec(a.data), "somedata")
    assert.strictEqual(b.entryType, "EntryConfChange")
    assert.deepStrictEqual(b.data, ccdata)
  })

  // Two proposals to add the same node do not affect a later proposal to add a new node.
  it("TestRawNodeProposeAddDuplicateNode3A: duplicate AddNode proposals are harmless", () => {
    const s = new MemoryStorage()
    const rawNode = new RawNode(newTestConfig(1, [1], 10, 1, s))
    let rd = rawNode.ready()
    s.append(rd.entries)
    rawNode.advance(rd)
    rawNode.campaign()
    for (let guard = 0; guard < 100; guard++) {
      rd = rawNode.ready()
      s.append(rd.entries)
      rawNode.advance(rd)
      if (rd.softState?.lead === rawNode.raft.id) break
    }
    assert.strictEqual(rawNode.raft.state, "Leader")
    const proposeConfChangeAndApply = (c: ConfChange) => {
      assert.isUndefined(rawNode.proposeConfChange(c))
      rd = rawNode.ready()
      s.append(rd.entries)
      for (const e of rd.committedEntries) {
        if (e.entryType === "EntryConfChange") rawNode.applyConfChange(decodeConfChange(e.data))
      }
      rawNode.advance(rd)
    }
    const cc1: ConfChange = { changeType: "AddNode", nodeId: 1, context: EMPTY_DATA }
    proposeConfChangeAndApply(cc1)
    // Try to add the same node again.
    proposeConfChangeAndApply(cc1)
    // The new node join should be ok.
    const cc2: ConfChange = { changeType: "AddNode", nodeId: 2, context: EMPTY_DATA }
    proposeConfChangeAndApply(cc2)
    const lastIndex = s.lastIndex()
    // The last three entries are cc1, cc1, cc2.
    const entries = s.entries(lastIndex - 2, lastIndex + 1) as Entry[]
    assert.strictEqual(entries.length, 3)
    assert.deepStrictEqual(entries[0]!.data, encodeConfChange(cc1))
    assert.deepStrictEqual(entries[1]!.data, encodeConfChange(cc1))
    assert.deepStrictEqual(entries[2]!.data, encodeConfChange(cc2))
    assert.deepStrictEqual(rawNode.raft.nodes(), [1, 2])
  })

  // A node can be started, and can accept and commit proposals.
  it("TestRawNodeStart2AC: a started node accepts and commits a proposal in one Ready", () => {
    const storage = new MemoryStorage()
    const rawNode = new RawNode(newTestConfig(1, [1], 10, 1, storage))
    rawNode.campaign()
    let rd = rawNode.ready()
    storage.append(rd.entries)
    rawNode.advance(rd)
    rawNode.propose(enc("foo"))
    rd = rawNode.ready()
    assert.strictEqual(rd.entries.length, 1)
    assert.strictEqual(rd.committedEntries.length, 1)
    assert.strictEqual(dec(rd.entries[0]!.data), "foo")
    assert.strictEqual(dec(rd.committedEntries[0]!.data), "foo")
    storage.append(rd.entries)
    rawNode.advance(rd)
    assert.strictEqual(rawNode.hasReady(), false)
  })

  it("TestRawNodeRestart2AC: a restarted node hands out exactly the committed, unapplied entries", () => {
    const entries = [ent(1, 1), ent(1, 2, "foo")]
    const st: HardState = { term: 1, vote: 0, commit: 1 }
    const storage = new MemoryStorage()
    storage.setHardState(st)
    storage.append(entries)
    const rawNode = new RawNode({ ...newTestConfig(1, [], 10, 1, storage), peers: [] })
    const rd = rawNode.ready()
    assert.deepStrictEqual(core(rd), onlyEntries([], entries.slice(0, st.commit)))
    rawNode.advance(rd)
    assert.strictEqual(rawNode.hasReady(), false)
  })

  it("TestRawNodeRestartFromSnapshot2C: a node restarted from a snapshot applies the entries after it", () => {
    const snap: Snapshot = { data: EMPTY_DATA, metadata: { confState: { nodes: [1, 2] }, index: 2, term: 1 } }
    const entries = [ent(1, 3, "foo")]
    const st: HardState = { term: 1, vote: 0, commit: 3 }
    const s = new MemoryStorage()
    s.setHardState(st)
    s.applySnapshot(snap)
    s.append(entries)
    const rawNode = new RawNode({ ...newTestConfig(1, [], 10, 1, s), peers: [] })
    const rd = rawNode.ready()
    assert.deepStrictEqual(core(rd), onlyEntries([], entries))
    rawNode.advance(rd)
    assert.strictEqual(rawNode.hasReady(), false)
    assert.deepStrictEqual(rawNode.raft.nodes(), [1, 2])
  })
})

describe("RawNode extras", () => {
  it("step refuses local messages and responses from non-members", () => {
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, new MemoryStorage()))
    assert.instanceOf(rn.step(msg({ msgType: "MsgHup", from: 1, to: 1 })), StepLocalMsg)
    assert.instanceOf(rn.step(msg({ msgType: "MsgBeat", from: 1, to: 1 })), StepLocalMsg)
    assert.instanceOf(rn.step(msg({ msgType: "MsgAppendResponse", from: 9, to: 1 })), StepPeerNotFound)
    assert.isUndefined(rn.step(msg({ msgType: "MsgHeartbeat", from: 2, to: 1, term: 1 })))
    assert.strictEqual(rn.raft.lead, 2)
  })

  it("getProgress is empty on a follower and reports match/next on the leader", () => {
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, new MemoryStorage()))
    assert.strictEqual(rn.getProgress().size, 0)
    rn.campaign()
    rn.step(msg({ msgType: "MsgRequestVoteResponse", from: 2, to: 1, term: 1 }))
    rn.step(msg({ msgType: "MsgAppendResponse", from: 2, to: 1, term: 1, index: 1 }))
    assert.deepStrictEqual(
      [...rn.getProgress()],
      [
        [1, { match: 1, next: 2 }],
        [2, { match: 1, next: 2 }]
      ]
    )
    const status = rn.status()
    assert.deepStrictEqual([status.raftState, status.lead, status.term, status.commit], ["Leader", 1, 1, 1])
  })

  it("ready() does not change the node; advance consumes exactly that Ready", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(1, [1, 2, 3], 10, 1, s))
    rn.campaign()
    const a = rn.ready()
    const b = rn.ready()
    assert.deepStrictEqual(core(a), core(b))
    assert.deepStrictEqual(a.hardState, { term: 1, vote: 1, commit: 0 })
    assert.deepStrictEqual(a.softState, { lead: 0, raftState: "Candidate" })
    assert.deepStrictEqual(
      a.messages.map((m) => [m.msgType, m.to]),
      [
        ["MsgRequestVote", 2],
        ["MsgRequestVote", 3]
      ]
    )
    assert.strictEqual(a.mustSync, true)
    rn.advance(a)
    assert.strictEqual(rn.hasReady(), false)
    assert.deepStrictEqual(rn.raft.msgs, [])
  })

  it("transferLeader on a follower forwards the request to the leader", () => {
    const rn = new RawNode(newTestConfig(2, [1, 2, 3], 10, 1, new MemoryStorage()))
    rn.step(msg({ msgType: "MsgHeartbeat", from: 1, to: 2, term: 1 }))
    rn.raft.readMessages()
    rn.transferLeader(3)
    assert.deepStrictEqual(
      rn.raft.readMessages().map((m) => [m.msgType, m.from, m.to]),
      [["MsgTransferLeader", 3, 1]]
    )
  })

  it("advance with a Ready whose entries were truncated meanwhile is a RaftInvariantError", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, s))
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 1, entries: [ent(1, 1), ent(1, 2)] }))
    const rd = rn.ready()
    // Contract violation: a step between ready() and advance() rewrites entry 2.
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 2, index: 1, logTerm: 1, entries: [ent(2, 2)] }))
    assert.throws(() => rn.advance(rd), RaftInvariantError)
  })

  it("a follower persisting a truncation gets the rewritten tail in its next Ready", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, s))
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 1, entries: [ent(1, 1), ent(1, 2), ent(1, 3)] }))
    let rd = rn.ready()
    s.append(rd.entries)
    if (rd.hardState) s.setHardState(rd.hardState)
    rn.advance(rd)
    assert.strictEqual(rn.raft.raftLog.stabled, 3)
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 2, index: 1, logTerm: 1, entries: [ent(2, 2)] }))
    assert.strictEqual(rn.raft.raftLog.stabled, 1)
    rd = rn.ready()
    assert.deepStrictEqual(rd.entries, [ent(2, 2)])
    s.append(rd.entries)
    rn.advance(rd)
    assert.strictEqual(s.lastIndex(), 2)
    assert.strictEqual(s.term(2), 2)
  })
})
