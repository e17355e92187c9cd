/**
 * Tests of the claims of the Raft paper (https://raft.github.io/raft.pdf), one claim per test, after TinyKV
 * `raft/raft_paper_test.go` (2AA elections, 2AB replication). Each: set up state, step messages, check outputs.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Entry } from "../../src/protocol/eraftpb.js"
import { MemoryStorage, None, newEntry, type Raft, type StateType } from "../../src/raft/index.js"
import {
  acceptAndReply,
  commitNoopEntry,
  describeAll,
  ent,
  hup,
  idsBySize,
  ltoa,
  memoryStorageWithEnts,
  msg,
  newTestRaft,
  propose,
  sortMessages
} from "./helpers.js"
import { newNetwork, nopStepper } from "./network.js"

const toState = (r: Raft, state: StateType): void => {
  if (state === "Follower") r.becomeFollower(1, 2)
  if (state === "Candidate") r.becomeCandidate()
  if (state === "Leader") {
    r.becomeCandidate()
    r.becomeLeader()
  }
}

describe("raft paper §5.1 / §5.2 (2AA)", () => {
  // Reference: section 5.1. A smaller current term is replaced by the larger one; a candidate or leader that
  // discovers its term is out of date reverts to follower.
  for (const [name, state] of [
    ["TestFollowerUpdateTermFromMessage2AA", "Follower"],
    ["TestCandidateUpdateTermFromMessage2AA", "Candidate"],
    ["TestLeaderUpdateTermFromMessage2AA", "Leader"]
  ] as const) {
    it(`${name}: a ${state.toLowerCase()} adopts a higher term and becomes follower`, () => {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      toState(r, state)
      r.step(msg({ msgType: "MsgAppend", term: 2 }))
      assert.strictEqual(r.term, 2)
      assert.strictEqual(r.state, "Follower")
    })
  }

  // Reference: section 5.2
  it("TestStartAsFollower2AA: servers start as followers", () => {
    const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
    assert.strictEqual(r.state, "Follower")
  })

  // Reference: section 5.2. A heartbeat tick makes the leader send MsgHeartbeat (no entries, commit 0 here)
  // to every follower, and nothing else.
  it("TestLeaderBcastBeat2AA: a heartbeat tick broadcasts empty heartbeats", () => {
    const hi = 1
    const r = newTestRaft(1, [1, 2, 3], 10, hi, new MemoryStorage())
    r.becomeCandidate()
    r.becomeLeader()
    r.step(propose(1, 1))
    r.readMessages()
    for (let i = 0; i < hi; i++) r.tick()
    const msgs = sortMessages(r.readMessages())
    assert.deepStrictEqual(msgs, [
      msg({ msgType: "MsgHeartbeat", from: 1, to: 2, term: 1 }),
      msg({ msgType: "MsgHeartbeat", from: 1, to: 3, term: 1 })
    ])
  })

  // Reference: section 5.2. Without hearing from a leader for an election timeout, a follower (or a candidate
  // whose election failed) increments its term, becomes candidate, votes for itself and requests votes.
  for (const [name, state] of [
    ["TestFollowerStartElection2AA", "Follower"],
    ["TestCandidateStartNewElection2AA", "Candidate"]
  ] as const) {
    it(`${name}: a ${state.toLowerCase()} starts an election after its timeout`, () => {
      const et = 10
      const r = newTestRaft(1, [1, 2, 3], et, 1, new MemoryStorage())
      toState(r, state)
      for (let i = 1; i < 2 * et; i++) r.tick()
      assert.strictEqual(r.term, 2)
      assert.strictEqual(r.state, "Candidate")
      assert.strictEqual(r.votes.get(r.id), true)
      assert.deepStrictEqual(sortMessages(r.readMessages()), [
        msg({ msgType: "MsgRequestVote", from: 1, to: 2, term: 2 }),
        msg({ msgType: "MsgRequestVote", from: 1, to: 3, term: 2 })
      ])
    })
  }

  // Reference: section 5.2. In one round of RequestVote a candidate wins (majority granted), loses, or stays
  // candidate when the outcome is unclear.
  it("TestLeaderElectionInOneRoundRPC2AA: leader iff a majority grants, else candidate", () => {
    const cases: Array<{ size: number; votes: Array<[number, boolean]>; state: StateType }> = [
      { size: 1, votes: [], state: "Leader" },
      {
        size: 3,
        votes: [
          [2, true],
          [3, true]
        ],
        state: "Leader"
      },
      { size: 3, votes: [[2, true]], state: "Leader" },
      {
        size: 5,
        votes: [
          [2, true],
          [3, true],
          [4, true],
          [5, true]
        ],
        state: "Leader"
      },
      {
        size: 5,
        votes: [
          [2, true],
          [3, true],
          [4, true]
        ],
        state: "Leader"
      },
      {
        size: 5,
        votes: [
          [2, true],
          [3, true]
        ],
        state: "Leader"
      },
      { size: 3, votes: [], state: "Candidate" },
      { size: 5, votes: [[2, true]], state: "Candidate" },
      {
        size: 5,
        votes: [
          [2, false],
          [3, false]
        ],
        state: "Candidate"
      },
      { size: 5, votes: [], state: "Candidate" }
    ]
    cases.forEach((tt, i) => {
      const r = newTestRaft(1, idsBySize(tt.size), 10, 1, new MemoryStorage())
      r.step(hup(1))
      for (const [id, vote] of tt.votes) {
        r.step(msg({ msgType: "MsgRequestVoteResponse", from: id, to: 1, term: r.term, reject: !vote }))
      }
      assert.strictEqual(r.state, tt.state, `#${i}`)
      assert.strictEqual(r.term, 1, `#${i}`)
    })
  })

  // Reference: section 5.2. A follower votes for at most one candidate per term, first come first served.
  it("TestFollowerVote2AA: one vote per term, first come first served", () => {
    const cases = [
      { vote: None, nvote: 1, wreject: false },
      { vote: None, nvote: 2, wreject: false },
      { vote: 1, nvote: 1, wreject: false },
      { vote: 2, nvote: 2, wreject: false },
      { vote: 1, nvote: 2, wreject: true },
      { vote: 2, nvote: 1, wreject: true }
    ]
    cases.forEach((tt, i) => {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      r.term = 1
      r.vote = tt.vote
      r.step(msg({ msgType: "MsgRequestVote", from: tt.nvote, to: 1, term: 1 }))
      assert.deepStrictEqual(
        r.readMessages(),
        [msg({ msgType: "MsgRequestVoteResponse", from: 1, to: tt.nvote, term: 1, reject: tt.wreject })],
        `#${i}`
      )
    })
  })

  // Reference: section 5.2. A candidate that hears from a leader whose term is at least its own concedes.
  it("TestCandidateFallback2AA: a candidate concedes to a leader of its term or higher", () => {
    for (const term of [1, 2]) {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      r.step(hup(1))
      assert.strictEqual(r.state, "Candidate")
      r.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term }))
      assert.strictEqual(r.state, "Follower", `term ${term}`)
      assert.strictEqual(r.term, term, `term ${term}`)
    }
  })

  // Reference: section 5.2. Election timeouts are randomized in [et, 2et): every value in (et, 2et) shows up.
  for (const [name, state] of [
    ["TestFollowerElectionTimeoutRandomized2AA", "Follower"],
    ["TestCandidateElectionTimeoutRandomized2AA", "Candidate"]
  ] as const) {
    it(`${name}: the ${state.toLowerCase()} election timeout covers [et+1, 2et-1]`, () => {
      const et = 10
      const r = newTestRaft(1, [1, 2, 3], et, 1, new MemoryStorage())
      const timeouts = new Set<number>()
      for (let round = 0; round < 50 * et; round++) {
        if (state === "Follower") r.becomeFollower(r.term + 1, 2)
        else r.becomeCandidate()
        let time = 0
        while (r.readMessages().length === 0) {
          r.tick()
          time++
        }
        timeouts.add(time)
      }
      for (let d = et + 1; d < 2 * et; d++)
        assert.strictEqual(timeouts.has(d), true, `timeout in ${d} ticks should happen`)
      for (const t of timeouts) assert.strictEqual(t >= et && t < 2 * et, true, `timeout ${t} out of range`)
    })
  }

  // Reference: section 5.2. Randomization makes it rare that several servers time out on the same tick.
  for (const [name, state] of [
    ["TestFollowersElectionTimeoutNonconflict2AA", "Follower"],
    ["TestCandidatesElectionTimeoutNonconflict2AA", "Candidate"]
  ] as const) {
    it(`${name}: at most 30% of rounds see simultaneous ${state.toLowerCase()} timeouts`, () => {
      const et = 10
      const ids = idsBySize(5)
      const rs = ids.map((id) => newTestRaft(id, ids, et, 1, new MemoryStorage()))
      let conflicts = 0
      for (let round = 0; round < 1000; round++) {
        for (const r of rs) {
          if (state === "Follower") r.becomeFollower(r.term + 1, None)
          else r.becomeCandidate()
        }
        let timeoutNum = 0
        while (timeoutNum === 0) {
          for (const r of rs) {
            r.tick()
            if (r.readMessages().length > 0) timeoutNum++
          }
        }
        if (timeoutNum > 1) conflicts++
      }
      assert.isAtMost(conflicts / 1000, 0.3)
    })
  }
})

describe("raft paper §5.3 / §5.4 (2AB)", () => {
  // Reference: section 5.3. The leader appends a proposal and sends AppendEntries carrying the index and term of
  // the entry preceding it; the new entry is unstable until persisted.
  it("TestLeaderStartReplication2AB: a proposal is appended and replicated with its predecessor", () => {
    const s = new MemoryStorage()
    const r = newTestRaft(1, [1, 2, 3], 10, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    commitNoopEntry(r, s)
    const li = r.raftLog.lastIndex()
    r.step(propose(1, 1, "some data"))
    assert.strictEqual(r.raftLog.lastIndex(), li + 1)
    assert.strictEqual(r.raftLog.committed, li)
    const e = ent(1, li + 1, "some data")
    assert.deepStrictEqual(sortMessages(r.readMessages()), [
      msg({ msgType: "MsgAppend", from: 1, to: 2, term: 1, index: li, logTerm: 1, entries: [e], commit: li }),
      msg({ msgType: "MsgAppend", from: 1, to: 3, term: 1, index: li, logTerm: 1, entries: [e], commit: li })
    ])
    assert.deepStrictEqual(r.raftLog.unstableEntries(), [e])
  })

  // Reference: section 5.3. Once replicated on a majority the entry is committed and handed out for applying,
  // and the new commit index goes out in exactly one MsgAppend per follower.
  it("TestLeaderCommitEntry2AB: a majority-replicated entry commits and the commit index is broadcast", () => {
    const s = new MemoryStorage()
    const r = newTestRaft(1, [1, 2, 3], 10, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    commitNoopEntry(r, s)
    const li = r.raftLog.lastIndex()
    r.step(propose(1, 1, "some data"))
    for (const m of r.readMessages()) r.step(acceptAndReply(m))
    assert.strictEqual(r.raftLog.committed, li + 1)
    assert.deepStrictEqual(r.raftLog.nextEnts(), [ent(1, li + 1, "some data")])
    const msgs = sortMessages(r.readMessages())
    assert.deepStrictEqual(
      msgs.map((m) => [m.to, m.msgType, m.commit]),
      [
        [2, "MsgAppend", li + 1],
        [3, "MsgAppend", li + 1]
      ]
    )
  })

  // Reference: section 5.3. An entry is committed once the leader has replicated it on a majority.
  it("TestLeaderAcknowledgeCommit2AB: commit needs a majority of acknowledgements", () => {
    const cases: Array<{ size: number; acceptors: number[]; wack: boolean }> = [
      { size: 1, acceptors: [], wack: true },
      { size: 3, acceptors: [], wack: false },
      { size: 3, acceptors: [2], wack: true },
      { size: 3, acceptors: [2, 3], wack: true },
      { size: 5, acceptors: [], wack: false },
      { size: 5, acceptors: [2], wack: false },
      { size: 5, acceptors: [2, 3], wack: true },
      { size: 5, acceptors: [2, 3, 4], wack: true },
      { size: 5, acceptors: [2, 3, 4, 5], wack: true }
    ]
    cases.forEach((tt, i) => {
      const s = new MemoryStorage()
      const r = newTestRaft(1, idsBySize(tt.size), 10, 1, s)
      r.becomeCandidate()
      r.becomeLeader()
      commitNoopEntry(r, s)
      const li = r.raftLog.lastIndex()
      r.step(propose(1, 1, "some data"))
      for (const m of r.readMessages()) if (tt.acceptors.includes(m.to)) r.step(acceptAndReply(m))
      assert.strictEqual(r.raftLog.committed > li, tt.wack, `#${i}`)
    })
  })

  // Reference: section 5.3. Committing an entry commits every preceding entry, including earlier leaders' ones,
  // and they are applied in log order.
  it("TestLeaderCommitPrecedingEntries2AB: committing also commits the older entries before it", () => {
    const cases: Entry[][] = [[], [ent(2, 1)], [ent(1, 1), ent(2, 2)], [ent(1, 1)]]
    cases.forEach((tt, i) => {
      const storage = memoryStorageWithEnts(tt)
      const r = newTestRaft(1, [1, 2, 3], 10, 1, storage)
      r.term = 2
      r.becomeCandidate()
      r.becomeLeader()
      r.step(propose(1, 1, "some data"))
      for (const m of r.readMessages()) r.step(acceptAndReply(m))
      const li = tt.length
      assert.deepStrictEqual(r.raftLog.nextEnts(), [...tt, ent(3, li + 1), ent(3, li + 2, "some data")], `#${i}`)
    })
  })

  // Reference: section 5.3. A follower that learns an entry is committed applies it (commit = min(leader commit,
  // last new entry)).
  it("TestFollowerCommitEntry2AB: a follower commits up to min(leader commit, last new entry)", () => {
    const cases: Array<{ ents: Entry[]; commit: number }> = [
      { ents: [ent(1, 1, "some data")], commit: 1 },
      { ents: [ent(1, 1, "some data"), ent(1, 2, "some data2")], commit: 2 },
      { ents: [ent(1, 1, "some data2"), ent(1, 2, "some data")], commit: 2 },
      { ents: [ent(1, 1, "some data"), ent(1, 2, "some data2")], commit: 1 }
    ]
    cases.forEach((tt, i) => {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      r.becomeFollower(1, 2)
      r.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 1, entries: tt.ents, commit: tt.commit }))
      assert.strictEqual(r.raftLog.committed, tt.commit, `#${i}`)
      assert.deepStrictEqual(r.raftLog.nextEnts(), tt.ents.slice(0, tt.commit), `#${i}`)
    })
  })

  // Reference: section 5.3. A follower refuses AppendEntries unless it holds an entry with the given index and
  // term; either way it answers exactly once, with its term.
  it("TestFollowerCheckMessageType_MsgAppend2AB: reject iff no entry matches (index, logTerm)", () => {
    const ents = [ent(1, 1), ent(2, 2)]
    const cases = [
      { term: 0, index: 0, wreject: false },
      { term: 1, index: 1, wreject: false },
      { term: 2, index: 2, wreject: false },
      { term: 1, index: 2, wreject: true },
      { term: 3, index: 3, wreject: true }
    ]
    cases.forEach((tt, i) => {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, memoryStorageWithEnts(ents))
      r.raftLog.committed = 1
      r.becomeFollower(2, 2)
      r.readMessages()
      r.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: 2, logTerm: tt.term, index: tt.index }))
      const msgs = r.readMessages()
      assert.strictEqual(msgs.length, 1, `#${i}`)
      assert.strictEqual(msgs[0]!.term, 2, `#${i}`)
      assert.strictEqual(msgs[0]!.reject, tt.wreject, `#${i}`)
    })
  })

  // Reference: section 5.3. A valid AppendEntries deletes a conflicting entry and all that follow, and appends
  // entries not already present; the rewritten tail is unstable again (stabled moves back).
  it("TestFollowerAppendEntries2AB: conflicts are truncated, matches kept, stabled moves back", () => {
    const cases: Array<{
      index: number
      term: number
      lterm: number
      ents: Entry[]
      wents: Entry[]
      wunstable: Entry[]
    }> = [
      {
        index: 2,
        term: 2,
        lterm: 3,
        ents: [ent(3, 3)],
        wents: [ent(1, 1), ent(2, 2), ent(3, 3)],
        wunstable: [ent(3, 3)]
      },
      {
        index: 1,
        term: 1,
        lterm: 4,
        ents: [ent(3, 2), ent(4, 3)],
        wents: [ent(1, 1), ent(3, 2), ent(4, 3)],
        wunstable: [ent(3, 2), ent(4, 3)]
      },
      { index: 0, term: 0, lterm: 2, ents: [ent(1, 1)], wents: [ent(1, 1), ent(2, 2)], wunstable: [] },
      { index: 0, term: 0, lterm: 3, ents: [ent(3, 1)], wents: [ent(3, 1)], wunstable: [ent(3, 1)] }
    ]
    cases.forEach((tt, i) => {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, memoryStorageWithEnts([ent(1, 1), ent(2, 2)]))
      r.becomeFollower(2, 2)
      r.step(
        msg({
          msgType: "MsgAppend",
          from: 2,
          to: 1,
          term: tt.lterm,
          logTerm: tt.term,
          index: tt.index,
          entries: tt.ents
        })
      )
      assert.deepStrictEqual(r.raftLog.allEntries(), tt.wents, `#${i}`)
      assert.deepStrictEqual(r.raftLog.unstableEntries(), tt.wunstable, `#${i}`)
    })
  })

  // Reference: section 5.3, figure 7. The leader brings every kind of divergent follower log into agreement.
  it("TestLeaderSyncFollowerLog2AB: the leader repairs all figure-7 follower logs", () => {
    const dummy = newEntry({})
    const terms = (...ts: number[]): Entry[] => [dummy, ...ts.map((t, k) => ent(t, k + 1))]
    const leaderLog = terms(1, 1, 1, 4, 4, 5, 5, 6, 6, 6)
    const term = 8
    const followers: Entry[][] = [
      terms(1, 1, 1, 4, 4, 5, 5, 6, 6),
      terms(1, 1, 1, 4),
      terms(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6),
      terms(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7),
      terms(1, 1, 1, 4, 4, 4, 4),
      terms(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3)
    ]
    followers.forEach((tt, i) => {
      const lead = newTestRaft(1, [1, 2, 3], 10, 1, memoryStorageWithEnts(leaderLog))
      lead.term = term
      lead.raftLog.committed = lead.raftLog.lastIndex()
      const follower = newTestRaft(2, [1, 2, 3], 10, 1, memoryStorageWithEnts(tt))
      follower.term = term - 1
      // Three nodes: the follower may have the longer log, so the leader needs the third node's vote.
      const n = newNetwork(lead, follower, nopStepper)
      n.send(hup(1))
      n.send(msg({ msgType: "MsgRequestVoteResponse", from: 3, to: 1, term: term + 1 }))
      n.send(propose(1, 1))
      assert.strictEqual(lead.state, "Leader", `#${i}`)
      assert.strictEqual(ltoa(follower.raftLog), ltoa(lead.raftLog), `#${i}`)
    })
  })

  // Reference: section 5.4.1. A vote request carries the candidate's last log index and term.
  it("TestVoteRequest2AB: vote requests carry the candidate's last index and term", () => {
    const cases = [
      { ents: [ent(1, 1)], wterm: 2 },
      { ents: [ent(1, 1), ent(2, 2)], wterm: 3 }
    ]
    cases.forEach((tt, j) => {
      const r = newTestRaft(1, [1, 2, 3], 10, 1, new MemoryStorage())
      r.step(msg({ msgType: "MsgAppend", from: 2, to: 1, term: tt.wterm - 1, logTerm: 0, index: 0, entries: tt.ents }))
      r.readMessages()
      let guard = 0
      while (r.state !== "Candidate" && guard++ < 1000) r.tick()
      const msgs = sortMessages(r.readMessages())
      assert.strictEqual(msgs.length, 2, `#${j}`)
      const last = tt.ents[tt.ents.length - 1]!
      msgs.forEach((m, i) => {
        assert.strictEqual(m.msgType, "MsgRequestVote")
        assert.strictEqual(m.to, i + 2)
        assert.strictEqual(m.term, tt.wterm)
        assert.strictEqual(m.index, last.index)
        assert.strictEqual(m.logTerm, last.term)
      })
    })
  })

  // Reference: section 5.4.1. A voter denies its vote to a candidate whose log is less up-to-date than its own.
  it("TestVoter2AB: a vote is granted iff the candidate's log is at least as up-to-date", () => {
    const cases = [
      { ents: [ent(1, 1)], logterm: 1, index: 1, wreject: false },
      { ents: [ent(1, 1)], logterm: 1, index: 2, wreject: false },
      { ents: [ent(1, 1), ent(1, 2)], logterm: 1, index: 1, wreject: true },
      { ents: [ent(1, 1)], logterm: 2, index: 1, wreject: false },
      { ents: [ent(1, 1)], logterm: 2, index: 2, wreject: false },
      { ents: [ent(1, 1), ent(1, 2)], logterm: 2, index: 1, wreject: false },
      { ents: [ent(2, 1)], logterm: 1, index: 1, wreject: true },
      { ents: [ent(2, 1)], logterm: 1, index: 2, wreject: true },
      { ents: [ent(2, 1), ent(1, 2)], logterm: 1, index: 1, wreject: true }
    ]
    cases.forEach((tt, i) => {
      const r = newTestRaft(1, [1, 2], 10, 1, memoryStorageWithEnts(tt.ents))
      r.step(msg({ msgType: "MsgRequestVote", from: 2, to: 1, term: 3, logTerm: tt.logterm, index: tt.index }))
      const msgs = r.readMessages()
      assert.strictEqual(msgs.length, 1, `#${i}`)
      assert.strictEqual(msgs[0]!.msgType, "MsgRequestVoteResponse", `#${i}`)
      assert.strictEqual(msgs[0]!.reject, tt.wreject, `#${i}: ${describeAll(msgs)}`)
    })
  })

  // Reference: section 5.4.2. Only entries of the leader's current term are committed by counting replicas.
  it("TestLeaderOnlyCommitsLogFromCurrentTerm2AB: replica counting commits only current-term entries", () => {
    const cases = [
      { index: 1, wcommit: 0 },
      { index: 2, wcommit: 0 },
      { index: 3, wcommit: 3 }
    ]
    cases.forEach((tt, i) => {
      const r = newTestRaft(1, [1, 2], 10, 1, memoryStorageWithEnts([ent(1, 1), ent(2, 2)]))
      r.term = 2
      r.becomeCandidate()
      r.becomeLeader()
      r.readMessages()
      r.step(propose(1, 1))
      r.step(msg({ msgType: "MsgAppendResponse", from: 2, to: 1, term: r.term, index: tt.index }))
      assert.strictEqual(r.raftLog.committed, tt.wcommit, `#${i}`)
    })
  })
})
