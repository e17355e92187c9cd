/**
 * Log replication scenarios (TinyKV `raft/raft_test.go`, part 2AB).
 */
import { assert, describe, it } from "@effect/vitest"
import type { Message } from "../../src/protocol/eraftpb.js"
import { MemoryStorage, None, ProposalDropped, RaftInvariantError } from "../../src/raft/index.js"
import {
  beat,
  dec,
  ent,
  hup,
  ltoa,
  memoryStorageWithEnts,
  msg,
  newLogWithEnts,
  newTestRaft,
  nextEnts,
  ofType,
  propose
} from "./helpers.js"
import { newNetwork, nopStepper } from "./network.js"

describe("log replication (2AB)", () => {
  it("TestProgressLeader2AB: the leader's own progress tracks its last index", () => {
    const r = newTestRaft(1, [1, 2], 5, 1, new MemoryStorage())
    r.becomeCandidate()
    r.becomeLeader()
    for (let i = 0; i < 5; i++) {
      const pr = r.prs.get(r.id)!
      assert.strictEqual(pr.match, i + 1, `#${i}`)
      assert.strictEqual(pr.next, pr.match + 1, `#${i}`)
      assert.isUndefined(r.step(propose(1, 1, "foo")))
    }
  })

  it("TestLogReplication2AB: proposals commit on every node, also across a leader change", () => {
    const cases: Array<{ msgs: Message[]; wcommitted: number }> = [
      { msgs: [propose(1, 1, "somedata")], wcommitted: 2 },
      { msgs: [propose(1, 1, "somedata"), hup(2), propose(1, 2, "somedata")], wcommitted: 4 }
    ]
    cases.forEach((tt, i) => {
      const nt = newNetwork(undefined, undefined, undefined)
      nt.send(hup(1))
      for (const m of tt.msgs) nt.send(m)
      for (const id of [1, 2, 3]) {
        const sm = nt.raft(id)
        assert.strictEqual(sm.raftLog.committed, tt.wcommitted, `#${i}.${id}`)
        const ents = nextEnts(sm, nt.storage.get(id)!).filter((e) => e.data.length > 0)
        const props = tt.msgs.filter((m) => m.msgType === "MsgPropose")
        assert.deepStrictEqual(
          ents.map((e) => dec(e.data)),
          props.map((m) => dec(m.entries[0]!.data)),
          `#${i}.${id}`
        )
      }
    })
  })

  it("TestSingleNodeCommit2AB: a single-node leader commits at once", () => {
    const tt = newNetwork(undefined)
    tt.send(hup(1))
    tt.send(propose(1, 1, "some data"))
    tt.send(propose(1, 1, "some data"))
    assert.strictEqual(tt.raft(1).raftLog.committed, 3)
  })

  // Entries are committed when the leader changes even without a new proposal: the new leader's noop does it.
  it("TestCommitWithoutNewTermEntry2AB: a new leader's noop commits the previous leader's entries", () => {
    const tt = newNetwork(undefined, undefined, undefined, undefined, undefined)
    tt.send(hup(1))
    // 1 cannot reach 3, 4, 5.
    tt.cut(1, 3)
    tt.cut(1, 4)
    tt.cut(1, 5)
    tt.send(propose(1, 1, "some data"))
    tt.send(propose(1, 1, "some data"))
    const sm = tt.raft(1)
    assert.strictEqual(sm.raftLog.committed, 1)
    tt.recover()
    // Elect 2 at term 2; its noop commits everything.
    tt.send(hup(2))
    assert.strictEqual(sm.raftLog.committed, 4)
  })

  // A heartbeat response tells the leader a follower lags; the leader sends the missing entries.
  it("TestCommitWithHeartbeat2AB: a heartbeat response triggers catch-up of a lagging follower", () => {
    const tt = newNetwork(undefined, undefined, undefined, undefined, undefined)
    tt.send(hup(1))
    tt.isolate(5)
    tt.send(propose(1, 1, "some data"))
    tt.send(propose(1, 1, "some data"))
    const sm = tt.raft(5)
    assert.strictEqual(sm.raftLog.committed, 1)
    tt.recover()
    tt.send(beat(1))
    assert.strictEqual(sm.raftLog.committed, 3)
  })

  it("TestOldMessages2AB: an append from an old term is ignored", () => {
    const tt = newNetwork(undefined, undefined, undefined)
    // Make 1 leader at term 3.
    tt.send(hup(1))
    tt.send(hup(2))
    tt.send(hup(1))
    // Pretend to be an old leader trying to make progress; this entry must be ignored.
    tt.send(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 2, entries: [ent(2, 3)] }))
    tt.send(propose(1, 1, "somedata"))
    const want = ltoa(newLogWithEnts([ent(1, 1), ent(2, 2), ent(3, 3), ent(3, 4, "somedata")], 4))
    for (const id of [1, 2, 3]) assert.strictEqual(ltoa(tt.raft(id).raftLog), want, `node ${id}`)
  })

  it("TestProposal2AB: a proposal commits only when a quorum-backed leader exists", () => {
    const cases = [
      { slots: [undefined, undefined, undefined], success: true },
      { slots: [undefined, undefined, nopStepper], success: true },
      { slots: [undefined, nopStepper, nopStepper], success: false },
      { slots: [undefined, nopStepper, nopStepper, undefined], success: false },
      { slots: [undefined, nopStepper, nopStepper, undefined, undefined], success: true }
    ]
    cases.forEach((tt, i) => {
      const nt = newNetwork(...tt.slots)
      nt.send(hup(1))
      nt.send(propose(1, 1, "somedata"))
      const want = tt.success ? ltoa(newLogWithEnts([ent(1, 1), ent(1, 2, "somedata")], 2)) : ltoa(newLogWithEnts([]))
      tt.slots.forEach((slot, j) => {
        if (slot === undefined) assert.strictEqual(ltoa(nt.raft(j + 1).raftLog), want, `#${i}.${j + 1}`)
      })
      assert.strictEqual(nt.raft(1).term, 1, `#${i}`)
    })
  })

  // 1. Reject if the log has no entry at prevLogIndex with prevLogTerm. 2. Delete a conflicting entry and all
  // that follow; append new ones. 3. commit = min(leaderCommit, index of last new entry).
  it("TestHandleMessageType_MsgAppend2AB: AppendEntries receiver rules", () => {
    const cases: Array<{ m: Message; wIndex: number; wCommit: number; wReject: boolean }> = [
      // Ensure 1
      {
        m: msg({ msgType: "MsgAppend", term: 3, logTerm: 3, index: 2, commit: 3 }),
        wIndex: 2,
        wCommit: 0,
        wReject: true
      },
      {
        m: msg({ msgType: "MsgAppend", term: 3, logTerm: 3, index: 3, commit: 3 }),
        wIndex: 2,
        wCommit: 0,
        wReject: true
      },
      // Ensure 2
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 1, index: 1, commit: 1 }),
        wIndex: 2,
        wCommit: 1,
        wReject: false
      },
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 0, index: 0, commit: 1, entries: [ent(2, 1)] }),
        wIndex: 1,
        wCommit: 1,
        wReject: false
      },
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 2, index: 2, commit: 3, entries: [ent(2, 3), ent(2, 4)] }),
        wIndex: 4,
        wCommit: 3,
        wReject: false
      },
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 2, index: 2, commit: 4, entries: [ent(2, 3)] }),
        wIndex: 3,
        wCommit: 3,
        wReject: false
      },
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 1, index: 1, commit: 4, entries: [ent(2, 2)] }),
        wIndex: 2,
        wCommit: 2,
        wReject: false
      },
      // Ensure 3
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 1, index: 1, commit: 3 }),
        wIndex: 2,
        wCommit: 1,
        wReject: false
      },
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 1, index: 1, commit: 3, entries: [ent(2, 2)] }),
        wIndex: 2,
        wCommit: 2,
        wReject: false
      },
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 2, index: 2, commit: 3 }),
        wIndex: 2,
        wCommit: 2,
        wReject: false
      },
      {
        m: msg({ msgType: "MsgAppend", term: 2, logTerm: 2, index: 2, commit: 4 }),
        wIndex: 2,
        wCommit: 2,
        wReject: false
      }
    ]
    cases.forEach((tt, i) => {
      const sm = newTestRaft(1, [1], 10, 1, memoryStorageWithEnts([ent(1, 1), ent(2, 2)]))
      sm.becomeFollower(2, None)
      sm.handleAppendEntries(tt.m)
      assert.strictEqual(sm.raftLog.lastIndex(), tt.wIndex, `#${i}`)
      assert.strictEqual(sm.raftLog.committed, tt.wCommit, `#${i}`)
      const out = sm.readMessages()
      assert.strictEqual(out.length, 1, `#${i}`)
      assert.strictEqual(out[0]!.reject, tt.wReject, `#${i}`)
    })
  })

  // An old leader with uncommitted junk must not raise its commit index from the new leader's heartbeat while
  // the appends that would repair its log are lost: heartbeat commit is min(match, committed).
  it("TestHeartbeatUpdateCommit2AB: heartbeats never commit entries a follower is not known to hold", () => {
    const cases = [
      { failCnt: 1, successCnt: 1 },
      { failCnt: 5, successCnt: 3 },
      { failCnt: 5, successCnt: 10 }
    ]
    cases.forEach((tt, i) => {
      const [sm1, sm2, sm3] = [1, 2, 3].map((id) => newTestRaft(id, [1, 2, 3], 10, 1, new MemoryStorage()))
      const nt = newNetwork(sm1, sm2, sm3)
      nt.send(hup(1))
      nt.isolate(1)
      // Proposals to the old leader cannot commit.
      for (let k = 0; k < tt.failCnt; k++) nt.send(propose(1, 1))
      assert.isAtMost(sm1!.raftLog.committed, 1, `#${i}`)
      // Proposals to the new cluster commit.
      nt.send(hup(2))
      for (let k = 0; k < tt.successCnt; k++) nt.send(propose(2, 2))
      const wCommit = 2 + tt.successCnt // two elections
      assert.strictEqual(sm2!.raftLog.committed, wCommit, `#${i}`)
      assert.strictEqual(sm3!.raftLog.committed, wCommit, `#${i}`)
      nt.recover()
      nt.ignore("MsgAppend")
      nt.send(beat(2))
      assert.isAtMost(sm1!.raftLog.committed, 1, `#${i}`)
    })
  })

  it("TestLeaderIncreaseNext2AB: next converges to last index + 1 after replication", () => {
    const previous = [ent(1, 1), ent(1, 2), ent(1, 3)]
    // previous entries + noop + proposal + 1
    const wnext = previous.length + 1 + 1 + 1
    const sm = newTestRaft(1, [1, 2], 10, 1, memoryStorageWithEnts(previous))
    const nt = newNetwork(sm, undefined, undefined)
    nt.send(hup(1))
    nt.send(propose(1, 1, "somedata"))
    assert.strictEqual(sm.prs.get(2)!.next, wnext)
  })
})

describe("replication extras", () => {
  // A TinyKV pitfall: heartbeat commit is min(match, committed): 0 for a peer that has nothing yet,
  // which the raftstore uses to create that peer (IsInitialMsg).
  it("heartbeats carry min(match, committed): 0 for a new peer", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.send(propose(1, 1, "x"))
    const lead = nt.raft(1)
    lead.addNode(4)
    lead.step(beat(1))
    const hbs = ofType(lead.readMessages(), "MsgHeartbeat")
    assert.deepStrictEqual(
      hbs.map((m) => [m.to, m.commit]),
      [
        [2, 2],
        [3, 2],
        [4, 0]
      ]
    )
  })

  it("a rejection hint lets the leader skip a whole divergent term in one round trip", () => {
    // Leader log terms 1 1 1 4 4 5 5 6 6 6; follower 1 1 1 2 2 2 3 3 3 3 3 (figure 7 (f)).
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    const followerTerms = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]
    const lead = newTestRaft(1, [1, 2], 10, 1, memoryStorageWithEnts(leaderTerms.map((t, k) => ent(t, k + 1))))
    const follower = newTestRaft(2, [1, 2], 10, 1, memoryStorageWithEnts(followerTerms.map((t, k) => ent(t, k + 1))))
    lead.term = 7
    follower.term = 7
    lead.becomeCandidate()
    lead.becomeLeader()
    const nt = newNetwork(lead, follower)
    let appends = 0
    nt.msgHook = (m) => {
      if (m.msgType === "MsgAppend") appends++
      return true
    }
    lead.bcastAppend()
    nt.send(...lead.readMessages())
    assert.deepStrictEqual(ltoa(follower.raftLog).split("\n").slice(2), ltoa(lead.raftLog).split("\n").slice(2))
    // probe at 10 rejected -> hint (10, term 3) -> leader skips to index 3 -> accepted: two appends
    // (plus the commit broadcast).
    assert.isAtMost(appends, 3)
  })

  it("followers and candidates drop proposals with ProposalDropped", () => {
    const f = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
    assert.instanceOf(f.step(propose(1, 1, "x")), ProposalDropped)
    f.becomeCandidate()
    assert.instanceOf(f.step(propose(1, 1, "x")), ProposalDropped)
    assert.strictEqual(f.raftLog.lastIndex(), 0)
  })

  it("a duplicated, reordered append neither truncates nor lowers the commit index", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    const lead = nt.raft(1)
    const f = nt.raft(2)
    lead.step(propose(1, 1, "a"))
    const first = lead.readMessages().find((m) => m.to === 2)!
    lead.step(propose(1, 1, "b"))
    lead.readMessages()
    nt.send(propose(1, 1, "c"))
    assert.strictEqual(f.raftLog.committed, 4)
    // A late copy of the first append arrives.
    f.step(first)
    assert.strictEqual(f.raftLog.lastIndex(), 4)
    assert.strictEqual(f.raftLog.committed, 4)
    assert.deepStrictEqual(
      f.readMessages().map((m) => [m.msgType, m.index, m.reject]),
      [["MsgAppendResponse", 4, false]]
    )
  })

  it("truncating a committed entry is a RaftInvariantError", () => {
    const f = newTestRaft(1, [1, 2], 10, 1, memoryStorageWithEnts([ent(1, 1), ent(1, 2)]))
    f.becomeFollower(2, 2)
    f.raftLog.committed = 2
    assert.throws(() => f.raftLog.appendFollower([ent(2, 2)]), RaftInvariantError)
  })

  it("two leaders in one term is a RaftInvariantError", () => {
    const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
    r.becomeCandidate()
    r.becomeLeader()
    assert.throws(() => r.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: r.term })), RaftInvariantError)
  })
})
