/**
 * RawNode and the Ready/advance cycle (TinyKV `raft/rawnode_test.go`, parts 2AC, 2C and 3A).
 */
import { describe, expect, it } from "vitest"
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
    expect(d.hardState).toBeUndefined()
    expect(d.entries.length).toBe(0)
    rawNode.campaign()
    rd = rawNode.ready()
    expect(rd.softState?.lead).toBe(rawNode.raft.id)
    // Propose a command and a ConfChange.
    rawNode.propose(enc("somedata"))
    const cc: ConfChange = { changeType: "AddNode", nodeId: 1, context: EMPTY_DATA }
    const ccdata = encodeConfChange(cc)
    rawNode.proposeConfChange(cc)
    const entries = rawNode.raft.raftLog.entries
    expect(entries.length).toBeGreaterThanOrEqual(2)
    const [a, b] = entries.slice(-2) as [Entry, Entry]
    expect(dec(a.data)).toBe("somedata")
    expect(b.entryType).toBe("EntryConfChange")
    expect(b.data).toEqual(ccdata)
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
    expect(rawNode.raft.state).toBe("Leader")
    const proposeConfChangeAndApply = (c: ConfChange) => {
      expect(rawNode.proposeConfChange(c)).toBeUndefined()
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
    expect(entries.length).toBe(3)
    expect(entries[0]!.data).toEqual(encodeConfChange(cc1))
    expect(entries[1]!.data).toEqual(encodeConfChange(cc1))
    expect(entries[2]!.data).toEqual(encodeConfChange(cc2))
    expect(rawNode.raft.nodes()).toEqual([1, 2])
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
    expect(rd.entries.length).toBe(1)
    expect(rd.committedEntries.length).toBe(1)
    expect(dec(rd.entries[0]!.data)).toBe("foo")
    expect(dec(rd.committedEntries[0]!.data)).toBe("foo")
    storage.append(rd.entries)
    rawNode.advance(rd)
    expect(rawNode.hasReady()).toBe(false)
  })

  it("TestRawNodeRestart2AC: a restarted node hands out exactly the committed, unapplied entries", () => {
    const entries = [ent(1, 1), ent(1, 2, "foo")]
    const st: HardState = { term: 1, vote: 0, commit: 1 }
    const storage = new MemoryStorage()
    storage.setHardState(st)
    storage.append(entries)
    const rawNode = new RawNode({ ...newTestConfig(1, [], 10, 1, storage), peers: [] })
    const rd = rawNode.ready()
    expect(core(rd)).toEqual(onlyEntries([], entries.slice(0, st.commit)))
    rawNode.advance(rd)
    expect(rawNode.hasReady()).toBe(false)
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
    expect(core(rd)).toEqual(onlyEntries([], entries))
    rawNode.advance(rd)
    expect(rawNode.hasReady()).toBe(false)
    expect(rawNode.raft.nodes()).toEqual([1, 2])
  })
})

describe("RawNode extras", () => {
  it("step refuses local messages and responses from non-members", () => {
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, new MemoryStorage()))
    expect(rn.step(msg({ msgType: "MsgHup", from: 1, to: 1 }))).toBeInstanceOf(StepLocalMsg)
    expect(rn.step(msg({ msgType: "MsgBeat", from: 1, to: 1 }))).toBeInstanceOf(StepLocalMsg)
    expect(rn.step(msg({ msgType: "MsgAppendResponse", from: 9, to: 1 }))).toBeInstanceOf(StepPeerNotFound)
    expect(rn.step(msg({ msgType: "MsgHeartbeat", from: 2, to: 1, term: 1 }))).toBeUndefined()
    expect(rn.raft.lead).toBe(2)
  })

  it("getProgress is empty on a follower and reports match/next on the leader", () => {
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, new MemoryStorage()))
    expect(rn.getProgress().size).toBe(0)
    rn.campaign()
    rn.step(msg({ msgType: "MsgRequestVoteResponse", from: 2, to: 1, term: 1 }))
    rn.step(msg({ msgType: "MsgAppendResponse", from: 2, to: 1, term: 1, index: 1 }))
    expect([...rn.getProgress()]).toEqual([
      [1, { match: 1, next: 2 }],
      [2, { match: 1, next: 2 }]
    ])
    expect(rn.status()).toMatchObject({ raftState: "Leader", lead: 1, term: 1, commit: 1 })
  })

  it("ready() does not change the node; advance consumes exactly that Ready", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(1, [1, 2, 3], 10, 1, s))
    rn.campaign()
    const a = rn.ready()
    const b = rn.ready()
    expect(core(a)).toEqual(core(b))
    expect(a.hardState).toEqual({ term: 1, vote: 1, commit: 0 })
    expect(a.softState).toEqual({ lead: 0, raftState: "Candidate" })
    expect(a.messages.map((m) => [m.msgType, m.to])).toEqual([
      ["MsgRequestVote", 2],
      ["MsgRequestVote", 3]
    ])
    expect(a.mustSync).toBe(true)
    rn.advance(a)
    expect(rn.hasReady()).toBe(false)
    expect(rn.raft.msgs).toEqual([])
  })

  it("transferLeader on a follower forwards the request to the leader", () => {
    const rn = new RawNode(newTestConfig(2, [1, 2, 3], 10, 1, new MemoryStorage()))
    rn.step(msg({ msgType: "MsgHeartbeat", from: 1, to: 2, term: 1 }))
    rn.raft.readMessages()
    rn.transferLeader(3)
    expect(rn.raft.readMessages().map((m) => [m.msgType, m.from, m.to])).toEqual([["MsgTransferLeader", 3, 1]])
  })

  it("advance with a Ready whose entries were truncated meanwhile is a RaftInvariantError", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, s))
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 1, entries: [ent(1, 1), ent(1, 2)] }))
    const rd = rn.ready()
    // Contract violation: a step between ready() and advance() rewrites entry 2.
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 2, index: 1, logTerm: 1, entries: [ent(2, 2)] }))
    expect(() => rn.advance(rd)).toThrow(RaftInvariantError)
  })

  it("a follower persisting a truncation gets the rewritten tail in its next Ready", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, s))
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 1, entries: [ent(1, 1), ent(1, 2), ent(1, 3)] }))
    let rd = rn.ready()
    s.append(rd.entries)
    if (rd.hardState) s.setHardState(rd.hardState)
    rn.advance(rd)
    expect(rn.raft.raftLog.stabled).toBe(3)
    rn.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 2, index: 1, logTerm: 1, entries: [ent(2, 2)] }))
    expect(rn.raft.raftLog.stabled).toBe(1)
    rd = rn.ready()
    expect(rd.entries).toEqual([ent(2, 2)])
    s.append(rd.entries)
    rn.advance(rd)
    expect(s.lastIndex()).toBe(2)
    expect(s.term(2)).toBe(2)
  })
})
