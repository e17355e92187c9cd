/**
 * ReadIndex (etcd `raft_test.go`: TestReadOnlyOptionSafe, TestReadOnlyForNewLeader, TestMsgReadIndexResp…): a
 * linearizable read gets the leader's commit index once a quorum has answered a heartbeat carrying its context,
 * without appending to the log. The randomized safety suite checks read indexes under faults
 * (`safety/sim.ts`).
 */
import { assert, describe, it } from "@effect/vitest"
import type { Message } from "../../src/protocol/eraftpb.js"
import { MemoryStorage, proposalDropped, type Raft, RawNode } from "../../src/raft/index.js"
import { beat, dec, enc, hup, idsBySize, msg, newTestConfig, propose } from "./helpers.js"
import { newNetwork } from "./network.js"

const readIndex = (id: number, ctx: string): Message =>
  msg({ msgType: "MsgReadIndex", from: id, to: id, context: enc(ctx) })

/** Drains `r`'s read states as `[index, ctx]` pairs. */
const takeReads = (r: Raft): Array<[number, string]> => {
  const out = r.readStates.map((rs): [number, string] => [rs.index, dec(rs.requestCtx)])
  r.readStates = []
  return out
}

describe("ReadIndex", () => {
  it("TestReadOnlyOptionSafe: reads on the leader and on followers get the commit index, with their context", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    assert.strictEqual(leader.state, "Leader")
    const cases: Array<{ at: number; proposals: number; ctx: string }> = [
      { at: 1, proposals: 10, ctx: "ctx1" },
      { at: 2, proposals: 10, ctx: "ctx2" },
      { at: 3, proposals: 10, ctx: "ctx3" },
      { at: 1, proposals: 0, ctx: "ctx4" },
      { at: 2, proposals: 0, ctx: "ctx5" },
      { at: 3, proposals: 1, ctx: "ctx6" }
    ]
    for (const c of cases) {
      for (let i = 0; i < c.proposals; i++) nw.send(propose(1, 1))
      const lastBefore = leader.raftLog.lastIndex()
      nw.send(readIndex(c.at, c.ctx))
      const r = nw.raft(c.at)
      assert.deepStrictEqual(takeReads(r), [[leader.raftLog.committed, c.ctx]], `read at ${c.at}`)
      assert.strictEqual(leader.raftLog.lastIndex(), lastBefore, "a read appends nothing to the log")
    }
  })

  it("the leader serves a read only after a quorum answered the heartbeat that carries it", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    nw.send(propose(1, 1, "x"))
    leader.readMessages()
    // step the read alone: the leader answers nothing yet, it sends heartbeats with the context
    leader.step(readIndex(1, "r"))
    const out = leader.readMessages()
    assert.deepStrictEqual(
      out.map((m) => [m.msgType, m.to, m.context === undefined ? "" : dec(m.context)]),
      [
        ["MsgHeartbeat", 2, "r"],
        ["MsgHeartbeat", 3, "r"]
      ]
    )
    assert.deepStrictEqual(leader.readStates, [])
    // one follower's answer makes a quorum of two with the leader
    const r2 = nw.raft(2)
    r2.step(out[0]!)
    const answer = r2.readMessages().filter((m) => m.msgType === "MsgHeartbeatResponse")
    assert.strictEqual(answer.length, 1)
    assert.strictEqual(dec(answer[0]!.context!), "r", "the follower echoes the context")
    leader.step(answer[0]!)
    assert.deepStrictEqual(takeReads(leader), [[leader.raftLog.committed, "r"]])
  })

  it("an answer for a later read confirms every earlier one, in order", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    leader.readMessages()
    leader.step(readIndex(1, "a"))
    leader.step(readIndex(1, "b"))
    const hbs = leader.readMessages().filter((m) => m.to === 2)
    assert.deepStrictEqual(
      hbs.map((m) => dec(m.context!)),
      ["a", "b"]
    )
    const r2 = nw.raft(2)
    r2.step(hbs[1]!)
    for (const m of r2.readMessages()) leader.step(m)
    assert.deepStrictEqual(
      takeReads(leader).map(([, c]) => c),
      ["a", "b"]
    )
    assert.strictEqual(leader.readOnly.size, 0)
  })

  it("a read whose heartbeats were lost is confirmed by the next periodic heartbeat", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    nw.ignore("MsgHeartbeat")
    nw.send(readIndex(1, "lost"))
    assert.deepStrictEqual(leader.readStates, [])
    nw.recover()
    nw.send(beat(1))
    assert.deepStrictEqual(takeReads(leader), [[leader.raftLog.committed, "lost"]])
  })

  it("TestReadOnlyForNewLeader: a new leader holds reads until it has committed an entry of its term", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    // the followers never acknowledge the new leader's empty entry
    nw.ignore("MsgAppendResponse")
    nw.send(hup(1))
    const leader = nw.raft(1)
    assert.strictEqual(leader.state, "Leader")
    assert.isBelow(leader.raftLog.committed, leader.raftLog.lastIndex())
    nw.send(readIndex(1, "early"))
    nw.send(beat(1))
    assert.deepStrictEqual(leader.readStates, [], "no read before the first commit of the term")
    assert.strictEqual(leader.pendingReadIndex.length, 1)
    nw.recover()
    nw.send(beat(1)) // a heartbeat answer from a follower behind the leader brings a fresh append, which commits
    assert.strictEqual(leader.raftLog.committed, leader.raftLog.lastIndex())
    assert.deepStrictEqual(takeReads(leader), [[leader.raftLog.committed, "early"]])
  })

  it("a single-node group answers at once, without messages", () => {
    const nw = newNetwork(undefined)
    nw.send(hup(1))
    const leader = nw.raft(1)
    nw.send(propose(1, 1, "x"))
    leader.readMessages()
    leader.step(readIndex(1, "solo"))
    assert.deepStrictEqual(leader.readMessages(), [])
    assert.deepStrictEqual(takeReads(leader), [[2, "solo"]])
  })

  it("a leader cut off in a minority never confirms a read, and drops it when it steps down", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    nw.send(hup(1))
    const old = nw.raft(1)
    nw.isolate(1)
    nw.send(readIndex(1, "stale"))
    for (let i = 0; i < 50; i++) {
      old.tick()
      nw.send(...old.readMessages())
    }
    assert.strictEqual(old.state, "Leader")
    assert.deepStrictEqual(old.readStates, [], "no quorum, no read")
    // the majority elects a new leader and commits; the old one learns the new term and drops its read
    nw.send(hup(2))
    nw.send(propose(2, 2, "new"))
    nw.recover()
    nw.send(beat(2))
    assert.strictEqual(old.state, "Follower")
    assert.strictEqual(old.readOnly.size, 0)
    assert.deepStrictEqual(old.readStates, [])
  })

  it("TestMsgReadIndexResp / forwarding: a follower forwards to the leader; without a leader it refuses", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    const r2 = nw.raft(2)
    assert.strictEqual(r2.step(readIndex(2, "nobody")), proposalDropped)
    assert.deepStrictEqual(r2.readMessages(), [])
    nw.send(hup(1))
    r2.step(readIndex(2, "fwd"))
    const fwd = r2.readMessages()
    assert.strictEqual(fwd.length, 1)
    assert.strictEqual(fwd[0]!.msgType, "MsgReadIndex")
    assert.strictEqual(fwd[0]!.to, 1)
    assert.strictEqual(fwd[0]!.term, 0, "forwarded term-less, like a proposal")
    nw.send(...fwd)
    assert.deepStrictEqual(takeReads(r2), [[nw.raft(1).raftLog.committed, "fwd"]])
    // the leader's answer itself becomes a read state, whatever index it names
    r2.step(msg({ msgType: "MsgReadIndexResp", from: 1, to: 2, term: r2.term, index: 7, context: enc("x") }))
    assert.deepStrictEqual(takeReads(r2), [[7, "x"]])
  })

  it("a candidate refuses reads", () => {
    const nw = newNetwork(undefined, undefined, undefined)
    nw.isolate(1)
    nw.send(hup(1))
    const r1 = nw.raft(1)
    assert.strictEqual(r1.state, "Candidate")
    assert.strictEqual(r1.step(readIndex(1, "c")), proposalDropped)
  })

  it("RawNode: readIndex puts a ReadState in the Ready, and advance hands it out once", () => {
    const storage = new MemoryStorage()
    const node = new RawNode(newTestConfig(1, idsBySize(1), 10, 1, storage))
    node.campaign()
    const persist = () => {
      const rd = node.ready()
      if (rd.hardState) storage.setHardState(rd.hardState)
      storage.append(rd.entries)
      node.advance(rd)
      return rd
    }
    while (node.hasReady()) persist()
    assert.strictEqual(node.readIndex(enc("q")), undefined)
    assert.isTrue(node.hasReady())
    const rd = persist()
    assert.deepStrictEqual(
      rd.readStates.map((rs) => [rs.index, dec(rs.requestCtx)]),
      [[node.status().commit, "q"]]
    )
    assert.strictEqual(rd.entries.length, 0, "no log entry for a read")
    assert.isFalse(node.hasReady())
  })
})
