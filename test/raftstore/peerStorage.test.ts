/**
 * PeerStorage (TinyKV `peer_storage_test.go`): a region's log over a memory engine with
 * truncated state (3,3) and entries (4,4), (5,5).
 */
import { assert, describe, it } from "@effect/vitest"
import type { Entry } from "../../src/protocol/eraftpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Region } from "../../src/protocol/metapb.js"
import { Compacted } from "../../src/raft/index.js"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import {
  encodeEntry,
  RaftApplyStateCodec,
  RaftLocalStateCodec,
  RegionLocalStateCodec,
  SnapshotDataCodec
} from "../../src/raftstore/codec.js"
import { applyStateKey, raftLogKey, raftStateKey, regionStateKey } from "../../src/raftstore/keys.js"
import { PeerStorage } from "../../src/raftstore/peerStorage.js"
import type { WriteOp } from "../../src/services/Storage.js"

const REGION = 1 as RegionId
const region: Region = {
  id: REGION,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { confVer: 1, version: 1 },
  peers: [{ id: 1 as PeerId, storeId: 1 as StoreId }]
}

/** Entry `index` of `term` (TinyKV `newTestEntry(index, term)`). */
const ent = (index: number, term: number): Entry => ({ entryType: "EntryNormal", index, term, data: new Uint8Array() })
const pairs = (es: ReadonlyArray<Entry>) => es.map((e) => [e.index, e.term])

/**
 * TinyKV `newTestPeerStorageFromEnts`: `ents[0]` is the truncated entry, the rest are in the log. Commit and
 * applied stay at the truncated entry, so the append cases may replace any entry of the log.
 */
const storageFromEnts = (ents: ReadonlyArray<Entry>) => {
  const engine = new MemoryEngine()
  const first = ents[0]!
  const last = ents[ents.length - 1]!
  engine.write([
    {
      _tag: "Put",
      space: "meta",
      key: regionStateKey(REGION),
      value: RegionLocalStateCodec.encode({ state: "Normal", region })
    },
    {
      _tag: "Put",
      space: "raft",
      key: raftStateKey(REGION),
      value: RaftLocalStateCodec.encode({
        hardState: { term: last.term, vote: 0, commit: first.index },
        lastIndex: last.index,
        lastTerm: last.term
      })
    },
    {
      _tag: "Put",
      space: "meta",
      key: applyStateKey(REGION),
      value: RaftApplyStateCodec.encode({
        appliedIndex: first.index,
        truncatedState: { index: first.index, term: first.term }
      })
    },
    ...ents
      .slice(1)
      .map((e): WriteOp => ({ _tag: "Put", space: "raft", key: raftLogKey(REGION, e.index), value: encodeEntry(e) }))
  ])
  const { storage, initOps } = PeerStorage.load(engine, region)
  assert.deepStrictEqual(initOps, [], "a loaded storage writes nothing")
  return { engine, storage }
}

const ENTS = [ent(3, 3), ent(4, 4), ent(5, 5)]

/** Keys of the region in the raft space and its meta keys (TinyKV `getMetaKeyCount`). */
const metaKeyCount = (engine: MemoryEngine) => {
  const prefixEnd = (key: Uint8Array) => {
    const p = key.slice(0, 10)
    const end = p.slice()
    end[9] = end[9]! + 1
    return { start: p, end }
  }
  let n = 0
  for (const _ of engine.scan("raft", prefixEnd(raftStateKey(REGION)))) n++
  for (const _ of engine.scan("meta", prefixEnd(applyStateKey(REGION)))) n++
  for (const _ of engine.scan("meta", prefixEnd(regionStateKey(REGION)))) n++
  return n
}

describe("PeerStorage", () => {
  it("TestPeerStorageTerm", () => {
    const { storage } = storageFromEnts(ENTS)
    assert.instanceOf(storage.term(2), Compacted)
    assert.strictEqual(storage.term(3), 3)
    assert.strictEqual(storage.term(4), 4)
    assert.strictEqual(storage.term(5), 5)
    assert.strictEqual(storage.firstIndex(), 4)
    assert.strictEqual(storage.lastIndex(), 5)
  })

  it("TestPeerStorageEntries", () => {
    const { storage } = storageFromEnts([...ENTS, ent(6, 6)])
    assert.instanceOf(storage.entries(2, 6), Compacted)
    assert.instanceOf(storage.entries(3, 4), Compacted)
    assert.deepStrictEqual(pairs(storage.entries(4, 5) as Array<Entry>), [[4, 4]])
    assert.deepStrictEqual(pairs(storage.entries(4, 6) as Array<Entry>), [
      [4, 4],
      [5, 5]
    ])
    assert.deepStrictEqual(pairs(storage.entries(4, 7) as Array<Entry>), [
      [4, 4],
      [5, 5],
      [6, 6]
    ])
    assert.deepStrictEqual(storage.entries(5, 5), [])
  })

  it("TestPeerStorageClearMeta", () => {
    const { engine, storage } = storageFromEnts([ent(3, 3), ent(4, 4)])
    const ops: Array<WriteOp> = []
    storage.append([ent(5, 5), ent(6, 6)], ops)
    ops.push({
      _tag: "Put",
      space: "raft",
      key: raftStateKey(REGION),
      value: RaftLocalStateCodec.encode(storage.raftState)
    })
    engine.write(ops)
    // region state, apply state, raft state and the entries 4, 5, 6
    assert.strictEqual(metaKeyCount(engine), 6)
    const clear: Array<WriteOp> = []
    storage.clearMetaOps(clear)
    engine.write(clear)
    assert.strictEqual(metaKeyCount(engine), 0)
  })

  describe("TestPeerStorageAppend", () => {
    const cases: ReadonlyArray<{ name: string; appends: Array<Entry>; results: Array<Entry> }> = [
      { name: "the same entries", appends: [ent(3, 3), ent(4, 4), ent(5, 5)], results: [ent(4, 4), ent(5, 5)] },
      {
        name: "conflicting terms replace",
        appends: [ent(3, 3), ent(4, 6), ent(5, 6)],
        results: [ent(4, 6), ent(5, 6)]
      },
      {
        name: "extend",
        appends: [ent(3, 3), ent(4, 4), ent(5, 5), ent(6, 5)],
        results: [ent(4, 4), ent(5, 5), ent(6, 5)]
      },
      {
        name: "entries below the first index are trimmed, the stale tail deleted",
        appends: [ent(2, 3), ent(3, 3), ent(4, 5)],
        results: [ent(4, 5)]
      },
      { name: "truncate the existing entries and append", appends: [ent(4, 5)], results: [ent(4, 5)] },
      { name: "direct append", appends: [ent(6, 5)], results: [ent(4, 4), ent(5, 5), ent(6, 5)] }
    ]
    for (const c of cases) {
      it(c.name, () => {
        const { engine, storage } = storageFromEnts(ENTS)
        const ops: Array<WriteOp> = []
        // as a Ready persists: the entries, then the raft state (last index/term)
        storage.persistReady({ entries: c.appends }, ops)
        engine.write(ops)
        const last = c.results[c.results.length - 1]!
        assert.strictEqual(storage.lastIndex(), last.index)
        assert.strictEqual(storage.term(last.index), last.term)
        assert.deepStrictEqual(pairs(storage.entries(4, storage.lastIndex() + 1) as Array<Entry>), pairs(c.results))
        // nothing survives past the new last index on disk (a restart must not resurrect a truncated suffix)
        assert.isUndefined(engine.get("raft", raftLogKey(REGION, last.index + 1)))
        const reloaded = PeerStorage.load(engine, region).storage
        assert.deepStrictEqual(pairs(reloaded.entries(4, last.index + 1) as Array<Entry>), pairs(c.results))
      })
    }
  })

  it("initializes a bootstrapped region at 5/5 and an uninitialized one at 0", () => {
    const engine = new MemoryEngine()
    const { storage, initOps } = PeerStorage.load(engine, region)
    assert.deepStrictEqual(storage.raftState, { hardState: { term: 5, vote: 0, commit: 5 }, lastIndex: 5, lastTerm: 5 })
    assert.deepStrictEqual(storage.applyState, { appliedIndex: 5, truncatedState: { index: 5, term: 5 } })
    assert.strictEqual(storage.firstIndex(), 6)
    assert.strictEqual(storage.term(5), 5)
    assert.strictEqual(initOps.length, 2)
    const empty = PeerStorage.load(engine, { ...region, id: 2 as RegionId, peers: [] }).storage
    assert.strictEqual(empty.lastIndex(), 0)
    assert.strictEqual(empty.appliedIndex, 0)
    assert.deepStrictEqual(empty.initialState().confState, { nodes: [] })
  })
  it("never reuses a cached snapshot across a region epoch change", () => {
    const { storage } = storageFromEnts(ENTS)
    const before = SnapshotDataCodec.decode(storage.snapshot().data).region
    assert.deepStrictEqual(before.regionEpoch, region.regionEpoch)
    // a peer added at the same applied index (as a conf change applies): the next snapshot must carry it,
    // or the new peer drops it as a snapshot of a membership it is not part of
    const added: Region = {
      ...region,
      regionEpoch: { ...region.regionEpoch, confVer: region.regionEpoch.confVer + 1 },
      peers: [...region.peers, { id: 2 as PeerId, storeId: 2 as StoreId }]
    }
    storage.region = added
    const snap = storage.snapshot()
    assert.deepStrictEqual(SnapshotDataCodec.decode(snap.data).region, added)
    assert.deepStrictEqual(snap.metadata.confState, { nodes: [1, 2] })
    // same epoch: the cached one is reused (building scans the whole region)
    assert.strictEqual(storage.snapshot(), snap)
  })
})
