/**
 * The leader's book of reads waiting on ReadIndex (`src/raftstore/readQueue.ts`), over a real one-node
 * RawNode (which confirms a read at once): one read index per batch, a batch served once its index is
 * applied, unknown contexts ignored, and batches nobody confirmed expiring.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, FiberId } from "effect"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../../src/protocol/raftCmd.js"
import { MemoryStorage, RawNode } from "../../src/raft/index.js"
import { type QueuedRead, ReadQueue } from "../../src/raftstore/readQueue.js"

const request: RaftCmdRequest = {
  header: {
    regionId: 1 as RegionId,
    peer: { id: 1 as PeerId, storeId: 1 as StoreId },
    regionEpoch: { confVer: 1, version: 1 },
    term: 0
  },
  requests: [{ _tag: "Snap" }]
}
const newRead = (): QueuedRead => ({ request, reply: Deferred.unsafeMake<RaftCmdResponse>(FiberId.none) })

/** A one-node group that has elected itself and settled its first Ready. */
const leaderNode = (): RawNode => {
  const storage = new MemoryStorage()
  const node = new RawNode({ id: 1, peers: [1], electionTick: 10, heartbeatTick: 1, storage })
  node.campaign()
  while (node.hasReady()) {
    const rd = node.ready()
    if (rd.hardState) storage.setHardState(rd.hardState)
    storage.append(rd.entries)
    node.advance(rd)
  }
  return node
}

describe("ReadQueue", () => {
  it("asks once per batch, and serves a confirmed batch once its index is applied", () => {
    const node = leaderNode()
    const q = new ReadQueue()
    const reads = [newRead(), newRead(), newRead()]
    for (const r of reads) q.add(r)
    q.askFor(node, node.raft.term)
    assert.strictEqual(q.batchCount, 1)
    q.askFor(node, node.raft.term) // nothing new taken: no second request
    const rd = node.ready()
    assert.strictEqual(rd.readStates.length, 1, "one read index for the three reads")
    const index = rd.readStates[0]!.index
    q.confirm(rd.readStates)
    assert.deepStrictEqual(q.takeServable(index - 1), [], "not before the confirmed index is applied")
    assert.deepStrictEqual(q.takeServable(index), reads)
    assert.strictEqual(q.size, 0)
  })

  it("ignores read states it did not ask for, and expires batches nobody confirmed", () => {
    const node = leaderNode()
    const q = new ReadQueue()
    const read = newRead()
    q.add(read)
    q.askFor(node, node.raft.term)
    q.confirm([{ index: 1, requestCtx: new Uint8Array([1, 2, 3]) }])
    assert.deepStrictEqual(q.takeServable(1_000), [], "a foreign context confirms nothing")
    assert.deepStrictEqual(q.tick(3), [])
    assert.deepStrictEqual(q.tick(3), [])
    assert.deepStrictEqual(q.tick(3), [read], "three ticks unconfirmed")
    assert.strictEqual(q.size, 0)
  })

  it("knows a batch asked in another term, and gives every read back at once", () => {
    const node = leaderNode()
    const q = new ReadQueue()
    const [a, b] = [newRead(), newRead()]
    q.add(a)
    q.askFor(node, node.raft.term)
    q.add(b)
    assert.isFalse(q.hasOtherTerm(node.raft.term))
    assert.isTrue(q.hasOtherTerm(node.raft.term + 1))
    const all = q.takeAll()
    assert.strictEqual(all.length, 2)
    assert.isTrue(all.includes(a) && all.includes(b))
    assert.strictEqual(q.size, 0)
  })
})
