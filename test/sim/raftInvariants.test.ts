/**
 * The simulator's Raft invariant check on hand-made peer states: it passes stores that agree, and names
 * the region, index or term and the stores when two leaders share a term, a committed entry changes, or
 * a peer applied past its commit, or a store's regions overlap or its range index is not its regions.
 */
import { assert, describe, it } from "vitest"
import type { RaftStore } from "../../src/layers/raftStore.js"
import type { StoreId } from "../../src/protocol/ids.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { RaftInvariantError } from "../../src/raft/index.js"
import { RegionRanges } from "../../src/raftstore/regionRanges.js"
import { RaftInvariants } from "../../src/testing/sim/raftInvariants.js"

interface FakePeer {
  readonly id: number
  state: "Leader" | "Follower"
  term: number
  committed: number
  applied: number
  entries: Array<{ index: number; term: number; data: string }>
}

const storeOf = (region: number, peer: FakePeer) => {
  const raftLog = {
    get committed() {
      return peer.committed
    },
    get applied() {
      return peer.applied
    },
    firstIndex: () => peer.entries[0]?.index ?? 1,
    lastIndex: () => peer.entries[peer.entries.length - 1]?.index ?? 0,
    slice: (lo: number, hi: number) =>
      peer.entries
        .filter((e) => e.index >= lo && e.index < hi)
        .map((e) => ({
          entryType: "EntryNormal",
          index: e.index,
          term: e.term,
          data: new TextEncoder().encode(e.data)
        }))
  }
  const p = {
    regionId: region,
    // uninitialized: no range, so not in the range index either
    region: { id: region, startKey: new Uint8Array(), endKey: new Uint8Array(), peers: [] },
    rawNode: {
      raft: {
        get id() {
          return peer.id
        },
        get state() {
          return peer.state
        },
        get term() {
          return peer.term
        },
        raftLog
      }
    }
  }
  return { peers: new Map([[region, p]]), ranges: new RegionRanges(), failed: new Map() } as unknown as RaftStore
}

/** A store whose peers hold `regions` (initialized, id = index + 1), with `indexed` recorded in its range index. */
const storeWithRegions = (regions: ReadonlyArray<[string, string]>, indexed: ReadonlyArray<number>) => {
  const peers = new Map<number, unknown>()
  const ranges = new RegionRanges<unknown>()
  regions.forEach(([start, end], i) => {
    const id = i + 1
    const region = { id, startKey: utf8(start), endKey: utf8(end), peers: [{ id, storeId: 1 }] }
    const peer = { regionId: id, region, rawNode: { raft: { state: "Follower", raftLog: emptyLog } } }
    peers.set(id, peer)
    if (indexed.includes(id)) ranges.set(peer, region)
  })
  return [{ id: 1 as StoreId, store: { peers, ranges, failed: new Map() } as unknown as RaftStore }]
}
const emptyLog = { committed: 0, applied: 0, firstIndex: () => 1, lastIndex: () => 0, slice: () => [] }

const log = (...terms: Array<[number, string]>) => terms.map(([term, data], i) => ({ index: i + 1, term, data }))

const cluster = (a: FakePeer, b: FakePeer) => [
  { id: 1 as StoreId, store: storeOf(7, a) },
  { id: 2 as StoreId, store: storeOf(7, b) }
]

describe("Raft invariants across stores", () => {
  it("stores that agree pass, sample after sample", () => {
    const a: FakePeer = { id: 11, state: "Leader", term: 2, committed: 2, applied: 2, entries: log([1, "x"], [2, "y"]) }
    const b: FakePeer = { id: 12, state: "Follower", term: 2, committed: 1, applied: 1, entries: log([1, "x"]) }
    const check = new RaftInvariants()
    check.sample(cluster(a, b))
    b.entries = log([1, "x"], [2, "y"])
    b.committed = 2
    check.sample(cluster(a, b), true)
    assert.deepStrictEqual(check.violations, [])
    assert.strictEqual(check.entries, 2)
  })

  it("two leaders of one region in one term", () => {
    const a: FakePeer = { id: 11, state: "Leader", term: 3, committed: 0, applied: 0, entries: [] }
    const b: FakePeer = { id: 12, state: "Leader", term: 3, committed: 0, applied: 0, entries: [] }
    const check = new RaftInvariants()
    check.sample(cluster(a, b))
    assert.match(check.violations[0] ?? "", /two leaders in region 7 term 3: peer 11 on store 1 and peer 12 on store 2/)
  })

  it("a committed entry that differs on another store, or changes later on the same one", () => {
    const a: FakePeer = { id: 11, state: "Leader", term: 2, committed: 2, applied: 2, entries: log([1, "x"], [2, "y"]) }
    const b: FakePeer = {
      id: 12,
      state: "Follower",
      term: 2,
      committed: 2,
      applied: 1,
      entries: log([1, "x"], [2, "z"])
    }
    const check = new RaftInvariants()
    check.sample(cluster(a, b))
    assert.match(check.violations[0] ?? "", /committed entry changed: region 7 index 2 .* on store 1, .* on store 2/)

    const c: FakePeer = { id: 11, state: "Leader", term: 2, committed: 1, applied: 1, entries: log([1, "x"]) }
    const d: FakePeer = { id: 12, state: "Follower", term: 2, committed: 1, applied: 1, entries: log([1, "x"]) }
    const later = new RaftInvariants()
    later.sample(cluster(c, d))
    c.entries = log([2, "w"])
    later.sample(cluster(c, d), true)
    assert.match(later.violations[0] ?? "", /region 7 index 1 was term 1/)
  })

  it("a store's overlapping regions, and a range index that is not the store's regions", () => {
    const fine = new RaftInvariants()
    fine.sample(
      storeWithRegions(
        [
          ["", "m"],
          ["m", ""]
        ],
        [1, 2]
      )
    )
    assert.deepStrictEqual(fine.violations, [])

    const overlap = new RaftInvariants()
    overlap.sample(
      storeWithRegions(
        [
          ["", "n"],
          ["m", ""]
        ],
        [1, 2]
      )
    )
    assert.match(overlap.violations.join("; "), /store 1: regions 1 and 2 overlap/)

    const missing = new RaftInvariants()
    missing.sample(
      storeWithRegions(
        [
          ["", "m"],
          ["m", ""]
        ],
        [1]
      )
    )
    assert.match(missing.violations.join("; "), /store 1: the range index has region 2 missing/)
  })

  it("a peer stopped for a broken invariant, or that could not load, reported once", () => {
    const failed = new Map([[9, new RaftInvariantError("region 9: last index 6 < applied 7")]])
    const store = { peers: new Map(), ranges: new RegionRanges(), failed } as unknown as RaftStore
    const check = new RaftInvariants()
    check.sample([{ id: 2 as StoreId, store }])
    check.sample([{ id: 2 as StoreId, store }])
    assert.deepStrictEqual(check.violations, [
      "store 2: the peer of region 9 stopped: region 9: last index 6 < applied 7"
    ])
  })

  it("an apply past the commit", () => {
    const a: FakePeer = {
      id: 11,
      state: "Follower",
      term: 2,
      committed: 1,
      applied: 2,
      entries: log([1, "x"], [2, "y"])
    }
    const check = new RaftInvariants()
    check.sample([{ id: 1 as StoreId, store: storeOf(7, a) }])
    assert.match(check.violations[0] ?? "", /region 7 on store 1: applied 2 is past committed 1/)
  })
})
