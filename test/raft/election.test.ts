/**
 * Leader election scenarios (TinyKV `raft/raft_test.go`, parts 2AA and the election-related 2AB tests).
 */
import { assert, describe, it } from "@effect/vitest"
import type { MessageType } from "../../src/protocol/eraftpb.js"
import { MemoryStorage, None, Raft, RaftInvariantError, type StateType } from "../../src/raft/index.js"
import {
  beat,
  ent,
  entsWithConfig,
  hup,
  idsBySize,
  ltoa,
  type MutableConfig,
  memoryStorageWithEnts,
  msg,
  newLogWithEnts,
  newTestConfig,
  newTestRaft,
  votedWithConfig
} from "./helpers.js"
import { newNetwork, newNetworkWithConfig, nopStepper } from "./network.js"

describe("leader election (2AA)", () => {
  it("TestLeaderElection2AA: a candidate wins iff a majority is reachable", () => {
    const cases: Array<{ slots: Array<undefined | typeof nopStepper>; state: StateType }> = [
      { slots: [undefined, undefined, undefined], state: "Leader" },
      { slots: [undefined, undefined, nopStepper], state: "Leader" },
      { slots: [undefined, nopStepper, nopStepper], state: "Candidate" },
      { slots: [undefined, nopStepper, nopStepper, undefined], state: "Candidate" },
      { slots: [undefined, nopStepper, nopStepper, undefined, undefined], state: "Leader" }
    ]
    cases.forEach((tt, i) => {
      const nt = newNetwork(...tt.slots)
      nt.send(hup(1))
      const sm = nt.raft(1)
      assert.strictEqual(sm.state, tt.state, `#${i}`)
      assert.strictEqual(sm.term, 1, `#${i}`)
    })
  })

  // Each node can campaign and win in turn: elections also work when not starting from a clean slate.
  it("TestLeaderCycle2AA: every node is elected in turn", () => {
    const n = newNetwork(undefined, undefined, undefined)
    for (let campaigner = 1; campaigner <= 3; campaigner++) {
      n.send(hup(campaigner))
      for (const id of [1, 2, 3]) {
        const sm = n.raft(id)
        assert.strictEqual(sm.state, id === campaigner ? "Leader" : "Follower", `campaign of ${campaigner}, node ${id}`)
      }
    }
  })

  it("TestVoteFromAnyState2AA: any state grants a higher-term vote and becomes follower", () => {
    for (const st of ["Follower", "Candidate", "Leader"] as const) {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      r.term = 1
      if (st === "Follower") r.becomeFollower(r.term, 3)
      if (st === "Candidate") r.becomeCandidate()
      if (st === "Leader") {
        r.becomeCandidate()
        r.becomeLeader()
      }
      r.readMessages()
      const newTerm = r.term + 1
      const err = r.step(msg({ msgType: "MsgRequestVote", from: 2, to: 1, term: newTerm, logTerm: newTerm, index: 42 }))
      assert.isUndefined(err, st)
      assert.strictEqual(r.msgs.length, 1, st)
      assert.strictEqual(r.msgs[0]!.msgType, "MsgRequestVoteResponse", st)
      assert.strictEqual(r.msgs[0]!.reject, false, st)
      assert.strictEqual(r.state, "Follower", st)
      assert.strictEqual(r.term, newTerm, st)
      assert.strictEqual(r.vote, 2, st)
    }
  })

  it("TestSingleNodeCandidate2AA: a single node becomes leader on MsgHup", () => {
    const tt = newNetwork(undefined)
    tt.send(hup(1))
    assert.strictEqual(tt.raft(1).state, "Leader")
  })

  // A candidate that hears from the leader of its term (heartbeat or append) reverts to follower with that term.
  for (const [name, mt] of [
    ["TestCandidateResetTermMessageType_MsgHeartbeat2AA", "MsgHeartbeat"],
    ["TestCandidateResetTermMessageType_MsgAppend2AA", "MsgAppend"]
  ] as const satisfies ReadonlyArray<readonly [string, MessageType]>) {
    it(`${name}: an isolated candidate concedes to the leader's ${mt}`, () => {
      const a = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      const b = newTestRaft(2, [1, 2, 3], 10, 1, new MemoryStorage())
      const c = newTestRaft(3, [1, 2, 3], 10, 1, new MemoryStorage())
      const nt = newNetwork(a, b, c)
      nt.send(hup(1))
      assert.deepStrictEqual([a.state, b.state, c.state], ["Leader", "Follower", "Follower"])
      // Isolate 3 and increase the term in the rest.
      nt.isolate(3)
      nt.send(hup(2))
      nt.send(hup(1))
      assert.deepStrictEqual([a.state, b.state], ["Leader", "Follower"])
      let guard = 0
      while (c.state !== "Candidate" && guard++ < 1000) c.tick()
      assert.strictEqual(c.state, "Candidate")
      nt.recover()
      // The leader reaches the isolated candidate, which reverts to follower and adopts the leader's term.
      nt.send(msg({ msgType: mt, from: 1, to: 3, term: a.term }))
      assert.strictEqual(c.state, "Follower")
      assert.strictEqual(c.term, a.term)
    })
  }

  // An isolated follower times out and campaigns at a higher term; its answer to the leader's late (lower-term)
  // heartbeat carries that term and makes the leader step down.
  it("TestDisruptiveFollower2AA: a stale heartbeat's reply deposes the leader", () => {
    const [n1, n2, n3] = [1, 2, 3].map((id) => newTestRaft(id, [1, 2, 3], 10, 1, new MemoryStorage())) as [
      Raft,
      Raft,
      Raft
    ]
    for (const n of [n1, n2, n3]) n.becomeFollower(1, None)
    const nt = newNetwork(n1, n2, n3)
    nt.send(hup(1))
    assert.deepStrictEqual([n1.state, n2.state, n3.state], ["Leader", "Follower", "Follower"])
    let guard = 0
    while (n3.state !== "Candidate" && guard++ < 1000) n3.tick()
    assert.deepStrictEqual([n1.state, n2.state, n3.state], ["Leader", "Follower", "Candidate"])
    assert.deepStrictEqual([n1.term, n2.term, n3.term], [2, 2, 3])
    // The leader's heartbeat finally reaches n3, with a lower term than n3's.
    nt.send(msg({ msgType: "MsgHeartbeat", from: 1, to: 3, term: n1.term }))
    assert.strictEqual(n1.state, "Follower")
    assert.strictEqual(n1.term, 3)
  })

  it("TestRecvMessageType_MsgBeat2AA: only a leader answers MsgBeat, with heartbeats", () => {
    const cases: Array<{ state: StateType; wMsg: number }> = [
      { state: "Leader", wMsg: 2 },
      { state: "Candidate", wMsg: 0 },
      { state: "Follower", wMsg: 0 }
    ]
    for (const tt of cases) {
      const sm = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      sm.raftLog = newLogWithEnts([ent(0, 1), ent(1, 2)])
      sm.term = 1
      sm.state = tt.state
      sm.step(beat(1))
      const msgs = sm.readMessages()
      assert.strictEqual(msgs.length, tt.wMsg, tt.state)
      for (const m of msgs) assert.strictEqual(m.msgType, "MsgHeartbeat")
    }
  })

  it("TestCampaignWhileLeader2AA: a leader ignores MsgHup", () => {
    const r = newTestRaft(1, [1], 5, 1, new MemoryStorage())
    assert.strictEqual(r.state, "Follower")
    r.step(hup(1))
    assert.strictEqual(r.state, "Leader")
    const term = r.term
    r.step(hup(1))
    assert.strictEqual(r.state, "Leader")
    assert.strictEqual(r.term, term)
  })

  // After a split vote the cluster completes the election in the next round.
  it("TestSplitVote2AA: a split vote is resolved by the next election", () => {
    const ns = [1, 2, 3].map((id) => newTestRaft(id, [1, 2, 3], 10, 1, new MemoryStorage()))
    for (const n of ns) n.becomeFollower(1, None)
    const nt = newNetwork(...ns)
    nt.send(hup(1))
    // The leader goes down; the followers split the vote.
    nt.isolate(1)
    nt.send(hup(2), hup(3))
    assert.deepStrictEqual([nt.raft(2).term, nt.raft(3).term], [3, 3])
    assert.deepStrictEqual([nt.raft(2).state, nt.raft(3).state], ["Candidate", "Candidate"])
    // Node 2 times out first.
    nt.send(hup(2))
    assert.deepStrictEqual([nt.raft(2).term, nt.raft(3).term], [4, 4])
    assert.deepStrictEqual([nt.raft(2).state, nt.raft(3).state], ["Leader", "Follower"])
  })
})

describe("leader election with logs (2AB)", () => {
  // A newly elected leader without the newest (highest-term) entries overwrites them with its own.
  it("TestLeaderElectionOverwriteNewerLogs2AB: the winner's log overwrites newer uncommitted entries", () => {
    const cfg = (c: MutableConfig) => {
      c.peers = idsBySize(5)
    }
    // Node 1 won term 1 and replicated to 2; node 3 won term 2 and wrote one entry; 4 and 5 voted for 3.
    const n = newNetworkWithConfig(
      cfg,
      entsWithConfig(cfg, 1, 1),
      entsWithConfig(cfg, 2, 1),
      entsWithConfig(cfg, 3, 2),
      votedWithConfig(cfg, 4, 3, 2),
      votedWithConfig(cfg, 5, 3, 2)
    )
    // A quorum knows of term 2, so node 1's first campaign fails and pushes its term to 2.
    n.send(hup(1))
    const sm1 = n.raft(1)
    assert.strictEqual(sm1.state, "Follower")
    assert.strictEqual(sm1.term, 2)
    // Its second campaign, at term 3, succeeds.
    n.send(hup(1))
    assert.strictEqual(sm1.state, "Leader")
    assert.strictEqual(sm1.term, 3)
    for (const id of idsBySize(5)) {
      const entries = n.raft(id).raftLog.allEntries()
      assert.deepStrictEqual(
        entries.map((e) => e.term),
        [1, 3],
        `node ${id}`
      )
    }
  })

  it("TestDuelingCandidates2AB: a candidate rejected by a majority steps down", () => {
    const a = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
    const b = newTestRaft(2, [1, 2, 3], 10, 1, new MemoryStorage())
    const c = newTestRaft(3, [1, 2, 3], 10, 1, new MemoryStorage())
    const nt = newNetwork(a, b, c)
    nt.cut(1, 3)
    nt.send(hup(1))
    nt.send(hup(3))
    // 1 wins with votes from 1 and 2; 3 has its own vote and one rejection, so stays candidate.
    assert.strictEqual(a.state, "Leader")
    assert.strictEqual(c.state, "Candidate")
    nt.recover()
    // 3 campaigns again at a higher term and disrupts 1, but both 1 and 2 reject it (its log is too short):
    // it must revert to follower.
    nt.send(hup(3))
    const wlog = ltoa(newLogWithEnts([ent(1, 1)], 1))
    const cases: Array<{ sm: Raft; state: StateType; term: number; log: string }> = [
      { sm: a, state: "Follower", term: 2, log: wlog },
      { sm: b, state: "Follower", term: 2, log: wlog },
      { sm: c, state: "Follower", term: 2, log: ltoa(newLogWithEnts([])) }
    ]
    cases.forEach((tt, i) => {
      assert.strictEqual(tt.sm.state, tt.state, `#${i}`)
      assert.strictEqual(tt.sm.term, tt.term, `#${i}`)
      assert.strictEqual(ltoa(tt.sm.raftLog), tt.log, `#${i}`)
    })
  })

  it("TestCandidateConcede2AB: an isolated candidate accepts the new leader and its log", () => {
    const tt = newNetwork(undefined, undefined, undefined)
    tt.isolate(1)
    tt.send(hup(1))
    tt.send(hup(3))
    tt.recover()
    // A heartbeat resets the wait; a proposal flushes a MsgAppend to 1; another heartbeat flushes the commit.
    tt.send(beat(3))
    tt.send(msg({ msgType: "MsgPropose", from: 3, to: 3, entries: [ent(0, 0, "force follower")] }))
    tt.send(beat(3))
    const a = tt.raft(1)
    assert.strictEqual(a.state, "Follower")
    assert.strictEqual(a.term, 1)
    const want = ltoa(newLogWithEnts([ent(1, 1), ent(1, 2, "force follower")], 2))
    for (const id of [1, 2, 3]) assert.strictEqual(ltoa(tt.raft(id).raftLog), want, `node ${id}`)
  })

  it("TestRecvMessageType_MsgRequestVote2AB: up-to-date check, one vote per term, self-voters reject", () => {
    const cases: Array<{ state: StateType; index: number; logTerm: number; voteFor: number; wreject: boolean }> = [
      { state: "Follower", index: 0, logTerm: 0, voteFor: None, wreject: true },
      { state: "Follower", index: 0, logTerm: 1, voteFor: None, wreject: true },
      { state: "Follower", index: 0, logTerm: 2, voteFor: None, wreject: true },
      { state: "Follower", index: 0, logTerm: 3, voteFor: None, wreject: false },
      { state: "Follower", index: 1, logTerm: 0, voteFor: None, wreject: true },
      { state: "Follower", index: 1, logTerm: 1, voteFor: None, wreject: true },
      { state: "Follower", index: 1, logTerm: 2, voteFor: None, wreject: true },
      { state: "Follower", index: 1, logTerm: 3, voteFor: None, wreject: false },
      { state: "Follower", index: 2, logTerm: 0, voteFor: None, wreject: true },
      { state: "Follower", index: 2, logTerm: 1, voteFor: None, wreject: true },
      { state: "Follower", index: 2, logTerm: 2, voteFor: None, wreject: false },
      { state: "Follower", index: 2, logTerm: 3, voteFor: None, wreject: false },
      { state: "Follower", index: 3, logTerm: 0, voteFor: None, wreject: true },
      { state: "Follower", index: 3, logTerm: 1, voteFor: None, wreject: true },
      { state: "Follower", index: 3, logTerm: 2, voteFor: None, wreject: false },
      { state: "Follower", index: 3, logTerm: 3, voteFor: None, wreject: false },
      { state: "Follower", index: 3, logTerm: 2, voteFor: 2, wreject: false },
      { state: "Follower", index: 3, logTerm: 2, voteFor: 1, wreject: true },
      { state: "Leader", index: 3, logTerm: 3, voteFor: 1, wreject: true },
      { state: "Candidate", index: 3, logTerm: 3, voteFor: 1, wreject: true }
    ]
    cases.forEach((tt, i) => {
      const sm = newTestRaft(1, [1, 2], 10, 1, new MemoryStorage())
      sm.state = tt.state
      sm.vote = tt.voteFor
      sm.raftLog = newLogWithEnts([ent(2, 1), ent(2, 2)])
      // Same term on both sides: only the log comparison and the existing vote decide.
      const term = Math.max(sm.raftLog.lastTerm(), tt.logTerm)
      sm.term = term
      sm.step(msg({ msgType: "MsgRequestVote", from: 2, term, index: tt.index, logTerm: tt.logTerm }))
      const msgs = sm.readMessages()
      assert.strictEqual(msgs.length, 1, `#${i}`)
      assert.strictEqual(msgs[0]!.msgType, "MsgRequestVoteResponse", `#${i}`)
      assert.strictEqual(msgs[0]!.reject, tt.wreject, `#${i}`)
    })
  })

  it("TestAllServerStepdown2AB: any state steps down on a higher-term vote request or append", () => {
    const cases: Array<{ state: StateType; wstate: StateType; wterm: number; windex: number }> = [
      { state: "Follower", wstate: "Follower", wterm: 3, windex: 0 },
      { state: "Candidate", wstate: "Follower", wterm: 3, windex: 0 },
      { state: "Leader", wstate: "Follower", wterm: 3, windex: 1 }
    ]
    const tterm = 3
    cases.forEach((tt, i) => {
      const sm = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      if (tt.state === "Follower") sm.becomeFollower(1, None)
      if (tt.state === "Candidate") sm.becomeCandidate()
      if (tt.state === "Leader") {
        sm.becomeCandidate()
        sm.becomeLeader()
      }
      for (const msgType of ["MsgRequestVote", "MsgAppend"] as const) {
        sm.step(msg({ msgType, from: 2, term: tterm, logTerm: tterm }))
        assert.strictEqual(sm.state, tt.wstate, `#${i} ${msgType}`)
        assert.strictEqual(sm.term, tt.wterm, `#${i} ${msgType}`)
        assert.strictEqual(sm.raftLog.lastIndex(), tt.windex, `#${i} ${msgType}`)
        assert.strictEqual(sm.raftLog.allEntries().length, tt.windex, `#${i} ${msgType}`)
        assert.strictEqual(sm.lead, msgType === "MsgRequestVote" ? None : 2, `#${i} ${msgType}`)
      }
    })
  })
})

describe("election extras", () => {
  // A TinyKV pitfall: becoming leader appends exactly one noop and emits no heartbeat; the election
  // winner then broadcasts MsgAppend carrying the noop.
  it("becoming leader appends exactly one noop and sends only MsgAppend", () => {
    const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
    r.becomeCandidate()
    r.readMessages()
    r.becomeLeader()
    assert.deepStrictEqual(r.readMessages(), [])
    assert.deepStrictEqual(r.raftLog.allEntries(), [ent(1, 1)])
    const r2 = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
    r2.step(hup(1))
    r2.readMessages()
    r2.step(msg({ msgType: "MsgRequestVoteResponse", from: 2, to: 1, term: 1 }))
    const out = r2.readMessages()
    assert.deepStrictEqual(
      out.map((m) => [m.msgType, m.to, m.entries.length]),
      [
        ["MsgAppend", 2, 1],
        ["MsgAppend", 3, 1]
      ]
    )
  })

  it("a node that is not a member never campaigns", () => {
    const r = newTestRaft(1, [2, 3], 10, 1, new MemoryStorage())
    for (let i = 0; i < 100; i++) r.tick()
    assert.strictEqual(r.state, "Follower")
    assert.strictEqual(r.term, 0)
    assert.deepStrictEqual(r.readMessages(), [])
  })

  it("a node with committed but unapplied conf changes does not campaign", () => {
    const s = memoryStorageWithEnts([ent(1, 1), { ...ent(1, 2), entryType: "EntryConfChange" }])
    s.setHardState({ term: 1, vote: 0, commit: 2 })
    const r = newTestRaft(1, [1, 2, 3], 10, 1, s)
    r.step(hup(1))
    assert.strictEqual(r.state, "Follower")
    r.raftLog.applied = 2
    r.step(hup(1))
    assert.strictEqual(r.state, "Candidate")
  })

  it("restarting keeps term and vote from the hard state", () => {
    const s = memoryStorageWithEnts([ent(1, 1)])
    s.setHardState({ term: 5, vote: 2, commit: 1 })
    const r = newTestRaft(1, [1, 2, 3], 10, 1, s)
    assert.deepStrictEqual([r.term, r.vote, r.raftLog.committed, r.state], [5, 2, 1, "Follower"])
    // Already voted for 2 in term 5: a request from 3 in term 5 is rejected, 2's is granted again.
    r.step(msg({ msgType: "MsgRequestVote", from: 3, to: 1, term: 5, index: 1, logTerm: 1 }))
    r.step(msg({ msgType: "MsgRequestVote", from: 2, to: 1, term: 5, index: 1, logTerm: 1 }))
    assert.deepStrictEqual(
      r.readMessages().map((m) => m.reject),
      [true, false]
    )
  })

  it("an invalid config is a defect", () => {
    const s = new MemoryStorage()
    assert.throws(() => newTestRaft(0, [1], 10, 1, s), /invalid raft config/)
    assert.throws(() => newTestRaft(1, [1], 1, 1, s), /election tick/)
    assert.throws(() => newTestRaft(1, [1], 10, 0, s), /heartbeat tick/)
    // Applied beyond the stored commit index cannot be right.
    const cfg = newTestConfig(1, [1], 10, 1, memoryStorageWithEnts([ent(1, 1)]))
    assert.throws(() => new Raft({ ...cfg, applied: 1 }), RaftInvariantError)
    assert.strictEqual(new Raft({ ...cfg, applied: 0 }).raftLog.applied, 0)
  })
})
