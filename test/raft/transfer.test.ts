/**
 * Leadership transfer (TinyKV `raft/raft_test.go`, part 3A; Raft thesis §3.10).
 */
import { assert, describe, it } from "@effect/vitest"
import { MemoryStorage, ProposalDropped, type Raft, type StateType } from "../../src/raft/index.js"
import { hup, msg, newTestRaft, nextEnts, propose } from "./helpers.js"
import { newNetwork } from "./network.js"

const transfer = (transferee: number, to: number) => msg({ msgType: "MsgTransferLeader", from: transferee, to })

const checkLeaderTransferState = (r: Raft, state: StateType, lead: number): void => {
  assert.deepStrictEqual({ state: r.state, lead: r.lead }, { state, lead })
}

describe("leader transfer (3A)", () => {
  // Transferring succeeds if the transferee's log is up to date when the transfer starts.
  it("TestLeaderTransferToUpToDateNode3A: transfer to an up-to-date node and back", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    const lead = nt.raft(1)
    assert.strictEqual(lead.lead, 1)
    nt.send(transfer(2, 1))
    checkLeaderTransferState(lead, "Follower", 2)
    // After some replication, transfer back to 1.
    nt.send(propose(1, 1))
    nt.send(transfer(1, 2))
    checkLeaderTransferState(lead, "Leader", 1)
  })

  // Same, but every transfer request is delivered to a follower, which forwards it to the leader.
  it("TestLeaderTransferToUpToDateNodeFromFollower3A: a follower forwards the request to the leader", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    const lead = nt.raft(1)
    assert.strictEqual(lead.lead, 1)
    nt.send(transfer(2, 2))
    checkLeaderTransferState(lead, "Follower", 2)
    nt.send(propose(1, 1))
    nt.send(transfer(1, 1))
    checkLeaderTransferState(lead, "Leader", 1)
  })

  it("TestLeaderTransferToSlowFollower3A: the leader first catches the transferee up", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    nt.send(propose(1, 1))
    nt.recover()
    const lead = nt.raft(1)
    assert.strictEqual(lead.prs.get(3)!.match, 1)
    nt.send(transfer(3, 1))
    checkLeaderTransferState(lead, "Follower", 3)
  })

  it("TestLeaderTransferAfterSnapshot3A: a transferee that needs a snapshot still takes over", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    nt.send(propose(1, 1))
    const lead = nt.raft(1)
    const s1 = nt.storage.get(1)!
    nextEnts(lead, s1)
    s1.createSnapshot(lead.raftLog.applied, { nodes: lead.nodes() })
    s1.compact(lead.raftLog.applied)
    nt.recover()
    assert.strictEqual(lead.prs.get(3)!.match, 1)
    // Transfer to 3, which lacks the snapshot; a heartbeat response from 3 triggers the snapshot.
    nt.send(transfer(3, 1))
    nt.send(msg({ msgType: "MsgHeartbeatResponse", from: 3, to: 1, term: lead.term }))
    checkLeaderTransferState(lead, "Follower", 3)
  })

  it("TestLeaderTransferToSelf3A: transferring to the leader itself is a no-op", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    const lead = nt.raft(1)
    nt.send(transfer(1, 1))
    checkLeaderTransferState(lead, "Leader", 1)
  })

  it("TestLeaderTransferToNonExistingNode3A: transferring to a non-member is a no-op", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    const lead = nt.raft(1)
    nt.send(transfer(4, 1))
    checkLeaderTransferState(lead, "Leader", 1)
  })

  it("TestLeaderTransferReceiveHigherTermVote3A: a higher-term election during a pending transfer wins", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    const lead = nt.raft(1)
    // Transfer to the isolated node, so the transfer stays pending.
    nt.send(transfer(3, 1))
    nt.send(msg({ msgType: "MsgHup", from: 2, to: 2, index: 1, term: 2 }))
    checkLeaderTransferState(lead, "Follower", 2)
  })

  it("TestLeaderTransferRemoveNode3A: a transfer to a removed node is ignored", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    const lead = nt.raft(1)
    lead.removeNode(3)
    nt.send(transfer(3, 1))
    checkLeaderTransferState(lead, "Leader", 1)
    assert.strictEqual(lead.leadTransferee, 0)
  })

  // Leadership can be transferred back to self while a transfer is pending.
  it("TestLeaderTransferBack3A: transferring back to self cancels a pending transfer", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    const lead = nt.raft(1)
    nt.send(transfer(3, 1))
    assert.strictEqual(lead.leadTransferee, 3)
    nt.send(transfer(1, 1))
    checkLeaderTransferState(lead, "Leader", 1)
    assert.strictEqual(lead.leadTransferee, 0)
  })

  it("TestLeaderTransferSecondTransferToAnotherNode3A: a second target replaces a pending one", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    const lead = nt.raft(1)
    nt.send(transfer(3, 1))
    nt.send(transfer(2, 1))
    checkLeaderTransferState(lead, "Follower", 2)
  })

  // A MsgTimeoutNow reaching a node that is no longer a member does nothing (and vote responses can't make it
  // leader).
  it("TestTransferNonMember3A: a non-member ignores MsgTimeoutNow and vote responses", () => {
    const r = newTestRaft(1, [2, 3, 4], 5, 1, new MemoryStorage())
    r.step(msg({ msgType: "MsgTimeoutNow", from: 2, to: 1, term: r.term }))
    r.step(msg({ msgType: "MsgRequestVoteResponse", from: 2, to: 1, term: r.term }))
    r.step(msg({ msgType: "MsgRequestVoteResponse", from: 3, to: 1, term: r.term }))
    assert.strictEqual(r.state, "Follower")
  })
})

describe("transfer extras", () => {
  it("proposals are dropped while a transfer is pending, and accepted again after it times out", () => {
    const nt = newNetwork(undefined, undefined, undefined)
    nt.send(hup(1))
    nt.isolate(3)
    const lead = nt.raft(1)
    nt.send(transfer(3, 1))
    assert.instanceOf(lead.step(propose(1, 1, "x")), ProposalDropped)
    for (let i = 0; i < lead.electionTimeout; i++) lead.tick()
    lead.readMessages()
    assert.strictEqual(lead.leadTransferee, 0)
    assert.isUndefined(lead.step(propose(1, 1, "x")))
  })
})
