/**
 * PreVote and CheckQuorum (off by default, as in TinyKV; the raftstore turns both on). The scenarios follow
 * etcd's: a node that was cut off cannot depose a working leader when it comes back, an isolated leader steps
 * down, followers that hear their leader ignore vote requests, and a leadership transfer still goes through.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Message } from "../../src/protocol/eraftpb.js"
import { MemoryStorage, Raft } from "../../src/raft/index.js"
import { beat, hup, msg, newTestConfig, propose } from "./helpers.js"
import { type Network, newNetworkWithConfig } from "./network.js"

const withBoth = (preVote: boolean, checkQuorum: boolean) => (c: { preVote?: boolean; checkQuorum?: boolean }) => {
  c.preVote = preVote
  c.checkQuorum = checkQuorum
}

/** Ticks `r` until its election timer has certainly fired once (the randomized timeout is below 2 × election). */
const tickPastElection = (nw: Network, r: Raft): void => {
  for (let i = 0; i < 2 * r.electionTimeout; i++) {
    r.tick()
    nw.send(...r.readMessages())
  }
}

describe("PreVote", () => {
  it("a node that was partitioned away does not bump its term, and does not depose the leader when it returns", () => {
    const nw = newNetworkWithConfig(withBoth(true, false), undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    assert.strictEqual(leader.state, "Leader")
    const term = leader.term
    nw.isolate(3)
    // the majority keeps committing while 3 is away, so 3's log falls behind
    nw.send(propose(1, 1, "while-away"))
    const r3 = nw.raft(3)
    // several election timeouts alone: pre-votes get no answer, so no real election and no new term
    for (let round = 0; round < 5; round++) tickPastElection(nw, r3)
    assert.strictEqual(r3.term, term, "an isolated pre-candidate keeps its term")
    assert.strictEqual(r3.state, "PreCandidate")
    nw.recover()
    // its timer fires before it hears from the leader: the poll is rejected (stale log), nothing changes
    tickPastElection(nw, r3)
    assert.strictEqual(leader.state, "Leader", "the leader was not deposed")
    assert.strictEqual(leader.term, term, "nobody moved to a new term")
    nw.send(beat(1))
    assert.strictEqual(r3.state, "Follower")
    assert.strictEqual(r3.lead, 1)
    assert.strictEqual(r3.raftLog.committed, leader.raftLog.committed, "the returning node catches up")
  })

  it("without PreVote the same returning node forces a new term (the behaviour PreVote removes)", () => {
    const nw = newNetworkWithConfig(withBoth(false, false), undefined, undefined, undefined)
    nw.send(hup(1))
    const term = nw.raft(1).term
    nw.isolate(3)
    const r3 = nw.raft(3)
    for (let round = 0; round < 3; round++) tickPastElection(nw, r3)
    assert.isAbove(r3.term, term)
    nw.recover()
    nw.send(beat(1))
    assert.isAbove(nw.raft(1).term, term, "the leader saw the higher term")
  })

  it("a pre-vote changes neither the voter's term nor its vote; a real election follows a won poll", () => {
    const nw = newNetworkWithConfig(withBoth(true, false), undefined, undefined, undefined)
    const seen: Array<Message> = []
    nw.msgHook = (m) => {
      seen.push(m)
      return true
    }
    nw.send(hup(1))
    const pre = seen.filter((m) => m.msgType === "MsgPreVote")
    assert.strictEqual(pre.length, 2)
    for (const m of pre) assert.strictEqual(m.term, 1, "a pre-vote asks for the term it would use")
    const grants = seen.filter((m) => m.msgType === "MsgPreVoteResponse" && !m.reject)
    assert.strictEqual(grants.length, 2)
    assert.strictEqual(seen.filter((m) => m.msgType === "MsgRequestVote").length, 2, "the real election followed")
    assert.strictEqual(nw.raft(1).state, "Leader")
    assert.strictEqual(nw.raft(1).term, 1)
  })

  it("a pre-vote from a node with a stale log is rejected and it returns to follower", () => {
    const nw = newNetworkWithConfig(withBoth(true, false), undefined, undefined, undefined)
    nw.send(hup(1))
    nw.isolate(3)
    nw.send(propose(1, 1, "x"))
    nw.recover()
    // 3 missed the entry: both others reject its poll
    const r3 = nw.raft(3)
    const term = r3.term
    nw.send(hup(3))
    assert.strictEqual(r3.state, "Follower", "a lost poll steps down")
    assert.strictEqual(r3.term, term)
    assert.strictEqual(nw.raft(2).vote, 1, "the voter's vote is unchanged")
  })

  it("a group of one needs no poll", () => {
    const nw = newNetworkWithConfig(withBoth(true, false), undefined)
    nw.send(hup(1))
    assert.strictEqual(nw.raft(1).state, "Leader")
  })
})

describe("CheckQuorum", () => {
  it("a leader that hears from no quorum for an election timeout steps down", () => {
    const nw = newNetworkWithConfig(withBoth(false, true), undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    assert.strictEqual(leader.state, "Leader")
    nw.isolate(1)
    // the first check sees the activity of the election; the second sees none
    for (let i = 0; i < 2 * leader.electionTimeout + 1; i++) {
      leader.tick()
      nw.send(...leader.readMessages())
    }
    assert.strictEqual(leader.state, "Follower")
  })

  it("a leader that keeps hearing from a quorum stays leader", () => {
    const nw = newNetworkWithConfig(withBoth(false, true), undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    nw.isolate(3) // one follower lost: 1 and 2 are still a quorum
    for (let i = 0; i < 5 * leader.electionTimeout; i++) {
      leader.tick()
      nw.send(...leader.readMessages())
    }
    assert.strictEqual(leader.state, "Leader")
  })

  it("followers that hear their leader ignore a higher-term vote request (the lease)", () => {
    const nw = newNetworkWithConfig(withBoth(false, true), undefined, undefined, undefined)
    nw.send(hup(1))
    const term = nw.raft(1).term
    const r2 = nw.raft(2)
    r2.step(msg({ msgType: "MsgRequestVote", from: 3, to: 2, term: term + 5, index: 100, logTerm: term + 4 }))
    assert.strictEqual(r2.term, term, "the vote request did not move the follower's term")
    assert.strictEqual(r2.readMessages().length, 0, "and got no answer")
    // once the lease ran out (no word from the leader for an election timeout) it is heard
    for (let i = 0; i < r2.electionTimeout; i++) r2.tick()
    r2.readMessages()
    r2.step(msg({ msgType: "MsgRequestVote", from: 3, to: 2, term: term + 5, index: 100, logTerm: term + 4 }))
    assert.strictEqual(r2.term, term + 5)
  })

  it("a node outside its own configuration (waiting for its snapshot) lets the lease run out and votes", () => {
    // a peer created by its leader's message knows no members yet, itself included: it cannot campaign,
    // but the other members may need its vote once that leader is gone
    const r = new Raft({ ...newTestConfig(3, [], 10, 1, new MemoryStorage()), checkQuorum: true, preVote: true })
    r.step(msg({ msgType: "MsgHeartbeat", from: 1, to: 3, term: 5 }))
    assert.strictEqual(r.lead, 1)
    r.readMessages()
    // whole multiples of its drawn timeout: a timer that started over at each one would stand at 0 now
    for (let i = 0; i < 3 * r.randomizedElectionTimeout; i++) r.tick()
    assert.deepStrictEqual(r.readMessages(), [], "it cannot campaign")
    r.step(msg({ msgType: "MsgPreVote", from: 2, to: 3, term: 6, index: 10, logTerm: 5 }))
    const [answer] = r.readMessages()
    assert.strictEqual(answer?.msgType, "MsgPreVoteResponse")
    assert.strictEqual(answer?.reject, false, "the pre-vote is granted: its lease on leader 1 ran out")
    r.step(msg({ msgType: "MsgRequestVote", from: 2, to: 3, term: 6, index: 10, logTerm: 5 }))
    const [vote] = r.readMessages()
    assert.strictEqual(vote?.msgType, "MsgRequestVoteResponse")
    assert.strictEqual(vote?.reject, false)
    assert.strictEqual(r.vote, 2)
  })

  it("a leadership transfer still wins the election although every voter is in its lease", () => {
    const nw = newNetworkWithConfig(withBoth(true, true), undefined, undefined, undefined)
    nw.send(hup(1))
    assert.strictEqual(nw.raft(1).state, "Leader")
    nw.send(msg({ msgType: "MsgTransferLeader", from: 2, to: 1 }))
    assert.strictEqual(nw.raft(2).state, "Leader")
    assert.strictEqual(nw.raft(1).state, "Follower")
    assert.strictEqual(nw.raft(1).lead, 2)
  })

  it("with PreVote and CheckQuorum, a healed minority leader steps down and the group keeps one leader", () => {
    const nw = newNetworkWithConfig(withBoth(true, true), undefined, undefined, undefined, undefined, undefined)
    nw.send(hup(1))
    const old = nw.raft(1)
    nw.isolate(1)
    for (let i = 0; i < 2 * old.electionTimeout + 1; i++) {
      old.tick()
      nw.send(...old.readMessages())
    }
    assert.strictEqual(old.state, "Follower", "the cut-off leader stepped down")
    // the majority elects a new leader once its lease on the old one ran out
    const r2 = nw.raft(2)
    for (let i = 0; i < 3 * r2.electionTimeout && r2.state !== "Leader"; i++) {
      for (const id of [2, 3, 4, 5]) {
        const r = nw.raft(id)
        r.tick()
        nw.send(...r.readMessages())
      }
    }
    const leaders = [2, 3, 4, 5].filter((id) => nw.raft(id).state === "Leader")
    assert.strictEqual(leaders.length, 1, "the majority side elected a leader")
    nw.recover()
    const newLeader = nw.raft(leaders[0]!)
    nw.send(beat(newLeader.id))
    assert.strictEqual(old.lead, newLeader.id, "the old leader follows the new one after healing")
    assert.strictEqual(newLeader.state, "Leader")
  })
  it("quietAfterStart: a node that just started ignores vote requests for its first election timeout", () => {
    const make = (quietAfterStart: boolean) =>
      new Raft({ ...newTestConfig(3, [1, 2, 3], 10, 1, new MemoryStorage()), checkQuorum: true, quietAfterStart })
    const vote = msg({ msgType: "MsgRequestVote", from: 2, to: 3, term: 6, index: 10, logTerm: 5 })
    const quiet = make(true)
    assert.isTrue(quiet.quietAfterStart)
    for (let i = 0; i < quiet.electionTimeout - 1; i++) quiet.tick()
    quiet.readMessages()
    quiet.step(vote)
    assert.deepStrictEqual(quiet.readMessages(), [], "ignored: it may have answered a leader just before it stopped")
    assert.strictEqual(quiet.term, 0, "and its term did not move")
    quiet.tick()
    quiet.readMessages()
    quiet.step(vote)
    assert.deepStrictEqual(
      quiet.readMessages().map((m) => [m.msgType, m.reject]),
      [["MsgRequestVoteResponse", false]],
      "granted once an election timeout passed"
    )
    // without it (etcd's behaviour) a fresh node votes at once
    const eager = make(false)
    eager.step(vote)
    assert.deepStrictEqual(
      eager.readMessages().map((m) => m.msgType),
      ["MsgRequestVoteResponse"]
    )
  })

  it("quietAfterStart ends with the first election timeout, though a pre-candidate keeps its role", () => {
    // a region whose members all restarted together: each polls, keeps polling, and must answer the others
    const r = new Raft({
      ...newTestConfig(1, [1, 2, 3], 10, 1, new MemoryStorage()),
      checkQuorum: true,
      preVote: true,
      quietAfterStart: true
    })
    while (r.state !== "PreCandidate") r.tick()
    r.readMessages()
    assert.isFalse(r.quietAfterStart, "its first election timeout is over")
    assert.strictEqual(r.electionElapsed, 0, "its timer started over with its poll")
    r.step(msg({ msgType: "MsgPreVote", from: 2, to: 1, term: r.term + 1, index: 10, logTerm: 5 }))
    assert.deepStrictEqual(
      r.readMessages().map((m) => [m.msgType, m.reject]),
      [["MsgPreVoteResponse", false]],
      "a poll of another member is answered"
    )
  })

  it("transferStarted: set when a leader starts a transfer, kept after it is abandoned, cleared by a new term", () => {
    const nw = newNetworkWithConfig(withBoth(true, true), undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    assert.isFalse(leader.transferStarted)
    nw.isolate(3)
    // 3 cannot catch up, so the transfer waits and is abandoned after an election timeout
    nw.send(propose(1, 1, "behind"))
    nw.send(msg({ msgType: "MsgTransferLeader", from: 3, to: 1 }))
    assert.isTrue(leader.transferStarted)
    for (let i = 0; i < leader.electionTimeout; i++) {
      leader.tick()
      nw.send(...leader.readMessages())
    }
    assert.strictEqual(leader.leadTransferee, 0, "abandoned")
    assert.strictEqual(leader.state, "Leader")
    assert.isTrue(leader.transferStarted, "its MsgTimeoutNow may still be on its way: the term stays marked")
    leader.becomeFollower(leader.term + 1, 0)
    assert.isFalse(leader.transferStarted)
  })
})
