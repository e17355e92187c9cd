/**
 * Membership changes (TinyKV `raft/raft_test.go` and `rawnode_test.go`, part 3A), plus the conf-change codec.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ConfChange } from "../../src/protocol/eraftpb.js"
import {
  decodeConfChange,
  EMPTY_DATA,
  encodeConfChange,
  MemoryStorage,
  ProposalDropped,
  RaftInvariantError,
  RawNode
} from "../../src/raft/index.js"
import { dec, enc, msg, newTestConfig, newTestRaft, nextEnts } from "./helpers.js"

const cc = (changeType: ConfChange["changeType"], nodeId: number, context: Uint8Array = EMPTY_DATA): ConfChange => ({
  changeType,
  nodeId,
  context
})

describe("membership (3A)", () => {
  it("TestAddNode3A: addNode adds a member", () => {
    const r = newTestRaft(1, [1], 10, 1, new MemoryStorage())
    r.addNode(2)
    assert.deepStrictEqual(r.nodes(), [1, 2])
  })

  it("TestRemoveNode3A: removeNode removes members, down to none", () => {
    const r = newTestRaft(1, [1, 2], 10, 1, new MemoryStorage())
    r.removeNode(2)
    assert.deepStrictEqual(r.nodes(), [1])
    r.removeNode(1)
    assert.deepStrictEqual(r.nodes(), [])
  })

  // Pending commands can commit once a configuration change lowers the quorum.
  it("TestCommitAfterRemoveNode3A: removing a node lets pending entries commit under the smaller quorum", () => {
    const s = new MemoryStorage()
    const r = newTestRaft(1, [1, 2], 5, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    // Begin to remove the second node.
    r.step(
      msg({
        msgType: "MsgPropose",
        entries: [{ entryType: "EntryConfChange", term: 0, index: 0, data: encodeConfChange(cc("RemoveNode", 2)) }]
      })
    )
    // Stabilize the log; nothing is committed yet.
    assert.deepStrictEqual(nextEnts(r, s), [])
    const ccIndex = r.raftLog.lastIndex()
    // While the conf change is pending, make another proposal.
    r.step(
      msg({ msgType: "MsgPropose", entries: [{ entryType: "EntryNormal", term: 0, index: 0, data: enc("hello") }] })
    )
    // Node 2 acknowledges the conf change, committing it.
    r.step(msg({ msgType: "MsgAppendResponse", from: 2, index: ccIndex, term: r.term }))
    const ents = nextEnts(r, s)
    assert.strictEqual(ents.length, 2)
    assert.strictEqual(ents[0]!.entryType, "EntryNormal")
    assert.strictEqual(ents[0]!.data.length, 0)
    assert.strictEqual(ents[1]!.entryType, "EntryConfChange")
    // Applying the change reduces the quorum, so the pending command commits.
    r.removeNode(2)
    const after = nextEnts(r, s)
    assert.deepStrictEqual(
      after.map((e) => [e.entryType, dec(e.data)]),
      [["EntryNormal", "hello"]]
    )
  })
})

describe("conf change extras", () => {
  it("only one conf change may be pending: a second is dropped until the first is applied", () => {
    const s = new MemoryStorage()
    const rn = new RawNode(newTestConfig(1, [1, 2], 10, 1, s))
    rn.campaign()
    rn.step(msg({ msgType: "MsgRequestVoteResponse", from: 2, to: 1, term: 1 }))
    assert.strictEqual(rn.raft.state, "Leader")
    assert.isUndefined(rn.proposeConfChange(cc("AddNode", 3)))
    assert.instanceOf(rn.proposeConfChange(cc("AddNode", 4)), ProposalDropped)
    // Normal proposals are unaffected.
    assert.isUndefined(rn.propose(enc("x")))
    const ccIndex = rn.raft.pendingConfIndex
    assert.strictEqual(ccIndex, 2)
    rn.step(msg({ msgType: "MsgAppendResponse", from: 2, to: 1, term: 1, index: 3 }))
    const rd = rn.ready()
    s.append(rd.entries)
    for (const e of rd.committedEntries)
      if (e.entryType === "EntryConfChange") rn.applyConfChange(decodeConfChange(e.data))
    rn.advance(rd)
    assert.deepStrictEqual(rn.raft.nodes(), [1, 2, 3])
    assert.isUndefined(rn.proposeConfChange(cc("AddNode", 4)))
  })

  it("a new leader counts an unapplied conf change in its log as pending", () => {
    const s = new MemoryStorage()
    s.append([
      { entryType: "EntryNormal", term: 1, index: 1, data: EMPTY_DATA },
      { entryType: "EntryConfChange", term: 1, index: 2, data: encodeConfChange(cc("AddNode", 3)) }
    ])
    const r = newTestRaft(1, [1, 2], 10, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    assert.strictEqual(r.pendingConfIndex, 2)
    const dropped = r.step(
      msg({
        msgType: "MsgPropose",
        entries: [{ entryType: "EntryConfChange", term: 0, index: 0, data: encodeConfChange(cc("AddNode", 4)) }]
      })
    )
    assert.instanceOf(dropped, ProposalDropped)
  })

  it("applyConfChange returns the sorted ConfState; node 0 changes nothing; duplicates are no-ops", () => {
    const rn = new RawNode(newTestConfig(3, [3, 1], 10, 1, new MemoryStorage()))
    assert.deepStrictEqual(rn.applyConfChange(cc("AddNode", 0)), { nodes: [1, 3] })
    assert.deepStrictEqual(rn.applyConfChange(cc("AddNode", 2)), { nodes: [1, 2, 3] })
    assert.deepStrictEqual(rn.applyConfChange(cc("AddNode", 2)), { nodes: [1, 2, 3] })
    assert.deepStrictEqual(rn.applyConfChange(cc("RemoveNode", 1)), { nodes: [2, 3] })
    assert.deepStrictEqual(rn.applyConfChange(cc("RemoveNode", 1)), { nodes: [2, 3] })
  })

  it("a removed leader drops proposals", () => {
    const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
    r.becomeCandidate()
    r.becomeLeader()
    r.removeNode(1)
    assert.instanceOf(
      r.step(
        msg({ msgType: "MsgPropose", entries: [{ entryType: "EntryNormal", term: 0, index: 0, data: enc("x") }] })
      ),
      ProposalDropped
    )
  })

  it("the conf change codec round-trips ids up to 2^53 and any context", () => {
    const samples: ConfChange[] = [
      cc("AddNode", 1),
      cc("RemoveNode", 127),
      cc("AddNode", 128),
      cc("RemoveNode", 300, enc("ctx")),
      cc("AddNode", 2 ** 32 + 5, new Uint8Array([0, 255, 1])),
      cc("AddNode", Number.MAX_SAFE_INTEGER)
    ]
    for (const c of samples) assert.deepStrictEqual(decodeConfChange(encodeConfChange(c)), c)
    assert.throws(() => decodeConfChange(new Uint8Array([9, 0, 1])), RaftInvariantError)
    assert.throws(() => decodeConfChange(new Uint8Array([1, 0, 0x80])), RaftInvariantError)
  })
})
