/**
 * What a store with a raft log of its own (`layers/storageRaftLogged.ts`) finds after a crash cut a write apart,
 * and how it starts from it: the ops that must follow the applied data are marked `afterData`, a snapshot's (or a
 * split's) data durable without its log is mended at load, and a removed peer's log left behind its tombstone is
 * cleared at start.
 */
import { assert, describe, it } from "@effect/vitest"
import { MemoryEngine } from "../../src/layers/storageMemory.js"
import type { HardState } from "../../src/protocol/eraftpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import type { Region } from "../../src/protocol/metapb.js"
import {
  encodeEntry,
  RaftApplyStateCodec,
  RaftLocalStateCodec,
  RegionLocalStateCodec,
  SnapshotDataCodec
} from "../../src/raftstore/codec.js"
import { defaultConfig } from "../../src/raftstore/config.js"
import { applyStateKey, raftLogKey, raftStateKey, regionStateKey } from "../../src/raftstore/keys.js"
import { loadPeers } from "../../src/raftstore/peerLoader.js"
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
const entry = (index: number, term: number) =>
  encodeEntry({ entryType: "EntryNormal", index, term, data: new Uint8Array() })

/** An engine holding the region, its apply state at `applied` (truncated there), and a log of `log` (index, term). */
const engineWith = (
  applied: { index: number; term: number },
  log: ReadonlyArray<readonly [number, number]>,
  hardState: HardState
): MemoryEngine => {
  const engine = new MemoryEngine()
  const last = log[log.length - 1] ?? [0, 0]
  engine.write([
    {
      _tag: "Put",
      space: "meta",
      key: regionStateKey(REGION),
      value: RegionLocalStateCodec.encode({ state: "Normal", region })
    },
    {
      _tag: "Put",
      space: "meta",
      key: applyStateKey(REGION),
      value: RaftApplyStateCodec.encode({ appliedIndex: applied.index, truncatedState: applied })
    },
    {
      _tag: "Put",
      space: "raft",
      key: raftStateKey(REGION),
      value: RaftLocalStateCodec.encode({ hardState, lastIndex: last[0], lastTerm: last[1] })
    },
    ...log.map(([i, t]): WriteOp => ({ _tag: "Put", space: "raft", key: raftLogKey(REGION, i), value: entry(i, t) }))
  ])
  return engine
}

/** The engine after `ops`, as the store's first write would leave it. */
const written = (engine: MemoryEngine, ops: ReadonlyArray<WriteOp>) => {
  engine.write(ops)
  return engine
}

describe("a store with a raft log of its own, after a crash", () => {
  it("a snapshot's data durable without its log: the log is mended to start at the snapshot, term and vote kept", () => {
    // the snapshot at 20@4 is in the engine; the log still is the old one, 6..9 of term 2, voted in term 3
    const engine = engineWith(
      { index: 20, term: 4 },
      [
        [6, 2],
        [7, 2],
        [8, 2],
        [9, 2]
      ],
      { term: 3, vote: 2, commit: 8 }
    )
    const { storage, initOps } = PeerStorage.load(engine, region)
    assert.deepStrictEqual(storage.raftState, {
      hardState: { term: 4, vote: 2, commit: 20 },
      lastIndex: 20,
      lastTerm: 4
    })
    assert.strictEqual(storage.firstIndex(), 21)
    written(engine, initOps)
    assert.strictEqual(engine.get("raft", raftLogKey(REGION, 7)), undefined, "the old log is gone")
    const again = PeerStorage.load(engine, region)
    assert.strictEqual(again.initOps.length, 0, "mended once: the next start finds nothing to do")
  })

  it("an old log reaching past the snapshot with another term there is replaced too", () => {
    const log = [
      [18, 2],
      [19, 2],
      [20, 3],
      [21, 3],
      [22, 3]
    ] as const
    const engine = engineWith({ index: 20, term: 4 }, log, { term: 3, vote: 0, commit: 19 })
    const { storage, initOps } = PeerStorage.load(engine, region)
    assert.strictEqual(storage.lastIndex(), 20)
    assert.strictEqual(storage.term(20), 4)
    written(engine, initOps)
    assert.strictEqual(engine.get("raft", raftLogKey(REGION, 22)), undefined, "nothing of the old log past it stays")
  })

  it("a log that agrees with the applied state is left as it is", () => {
    const log = [
      [20, 4],
      [21, 4],
      [22, 5]
    ] as const
    const engine = engineWith({ index: 20, term: 4 }, log, { term: 5, vote: 1, commit: 22 })
    const { storage, initOps } = PeerStorage.load(engine, region)
    assert.strictEqual(initOps.length, 0)
    assert.strictEqual(storage.lastIndex(), 22)
    // and one compacted to exactly the truncated entry (the log's compaction followed the applied state)
    const compacted = engineWith(
      { index: 20, term: 4 },
      [
        [21, 4],
        [22, 5]
      ],
      { term: 5, vote: 1, commit: 22 }
    )
    assert.strictEqual(PeerStorage.load(compacted, region).initOps.length, 0)
  })

  it("a split's region without its raft state: the log starts at 5/5 with the uninitialized peer's term and vote", () => {
    // the uninitialized peer had voted in term 7; the split's region and apply state made it, its raft state did not
    const engine = engineWith({ index: 5, term: 5 }, [], { term: 7, vote: 3, commit: 0 })
    const { storage } = PeerStorage.load(engine, region)
    assert.deepStrictEqual(storage.raftState, { hardState: { term: 7, vote: 3, commit: 5 }, lastIndex: 5, lastTerm: 5 })
  })

  it("the ops that must follow the applied data are marked afterData", () => {
    const engine = engineWith({ index: 5, term: 5 }, [[5, 5]], { term: 5, vote: 0, commit: 5 })
    const { storage } = PeerStorage.load(engine, region)
    const removal: Array<WriteOp> = []
    storage.clearMetaOps(removal)
    const raftOps = removal.filter((op) => op.space === "raft")
    assert.isAbove(raftOps.length, 0)
    assert.isTrue(
      raftOps.every((op) => op.afterData === true),
      "a removal's log clearing"
    )
    assert.isTrue(removal.filter((op) => op.space !== "raft").every((op) => op.afterData !== true))

    const split = PeerStorage.forSplit(engine.snapshot(), { ...region, id: 2 as RegionId }, undefined)
    assert.isTrue(
      split.ops.filter((op) => op.space === "raft").every((op) => op.afterData === true),
      "a split's log"
    )

    const snapshotOps: Array<WriteOp> = []
    const data = SnapshotDataCodec.encode({ region, fileSize: 0, data: [] })
    storage.persistReady(
      {
        snapshot: { data, metadata: { confState: { nodes: [1] }, index: 30, term: 6 } },
        entries: [{ entryType: "EntryNormal", index: 31, term: 6, data: new Uint8Array() }],
        hardState: { term: 6, vote: 0, commit: 31 }
      },
      snapshotOps
    )
    const snapRaft = snapshotOps.filter((op) => op.space === "raft")
    assert.isAbove(snapRaft.length, 2)
    assert.isTrue(
      snapRaft.every((op) => op.afterData === true),
      "a snapshot's log, its entries and state"
    )

    const plain: Array<WriteOp> = []
    storage.persistReady({ entries: [{ entryType: "EntryNormal", index: 32, term: 6, data: new Uint8Array() }] }, plain)
    assert.isTrue(
      plain.every((op) => op.afterData !== true),
      "an ordinary append goes first"
    )
  })

  it("a removed peer's log left behind its tombstone is cleared at start; an uninitialized peer's vote is kept", () => {
    const engine = engineWith(
      { index: 9, term: 2 },
      [
        [9, 2],
        [10, 2]
      ],
      { term: 2, vote: 1, commit: 10 }
    )
    engine.write([
      {
        _tag: "Put",
        space: "meta",
        key: regionStateKey(REGION),
        value: RegionLocalStateCodec.encode({ state: "Tombstone", region })
      }
    ])
    const options = { storeId: 1 as StoreId, config: defaultConfig, seed: 1 }
    const loaded = loadPeers(engine.snapshot(), options)
    assert.strictEqual(loaded.peers.length, 0)
    written(engine, loaded.initOps)
    assert.strictEqual(engine.get("raft", raftStateKey(REGION)), undefined)
    assert.strictEqual(engine.get("raft", raftLogKey(REGION, 10)), undefined)

    // a peer of the region made here since (uninitialized: no entries) keeps its term and vote
    engine.write([
      {
        _tag: "Put",
        space: "raft",
        key: raftStateKey(REGION),
        value: RaftLocalStateCodec.encode({ hardState: { term: 8, vote: 3, commit: 0 }, lastIndex: 0, lastTerm: 0 })
      }
    ])
    assert.strictEqual(loadPeers(engine.snapshot(), options).initOps.length, 0)
  })
})
