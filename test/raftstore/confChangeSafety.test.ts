/**
 * Conf change safety on the raftstore: a removed peer's destruction is atomic with the apply of its own
 * RemoveNode (a crash between them must not keep the store out of the region for good), and a peer that
 * missed its own removal is told so by the live members and erased.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { StorageError } from "../../src/protocol/errorpb.js"
import type { PeerId, StoreId } from "../../src/protocol/ids.js"
import type { Peer } from "../../src/protocol/metapb.js"
import { RegionLocalStateCodec } from "../../src/raftstore/codec.js"
import { regionStateKey } from "../../src/raftstore/keys.js"
import type { Storage, WriteOp } from "../../src/services/Storage.js"
import { allocPeer, mustAddPeer, mustRemovePeer, mustTransferLeader } from "../../src/testing/clusterAdmin.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { testSeed } from "./generic.js"
import { REGION_1 } from "./helpers.js"

const peer = (storeId: number, id: number): Peer => ({ id: id as PeerId, storeId: storeId as StoreId })
const S3 = 3 as StoreId

/** Whether a write records region 1 without store 3 (its removal applied, or its tombstone). */
const recordsRemovalOf3 = (ops: ReadonlyArray<WriteOp>) =>
  ops.some((op) => {
    if (op._tag !== "Put" || op.space !== "meta") return false
    if (op.key.length !== regionStateKey(REGION_1).length) return false
    if (!op.key.every((b, i) => b === regionStateKey(REGION_1)[i])) return false
    return !RegionLocalStateCodec.decode(op.value).region.peers.some((p) => p.storeId === S3)
  })

describe("raftstore conf change safety", () => {
  it.live(
    "a crash right after a peer applies its own removal does not keep its store out of the region",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 3, seed })
        // store 3's disk dies right after the write that records its removal: whatever the store meant to
        // write next (a separate destroy, before the fix) never lands
        let crashed = false
        yield* cluster.wrapStorage(S3, (s: Storage["Type"]) => ({
          ...s,
          write: (ops, options) =>
            crashed
              ? Effect.fail(new StorageError({ message: "disk gone (test)" }))
              : Effect.tap(s.write(ops, options), () => Effect.sync(() => void (crashed ||= recordsRemovalOf3(ops))))
        }))
        yield* cluster.start
        yield* cluster.mustPut("k1", "v1")
        yield* cluster.mustEngineHave(S3, "k1", "v1")

        yield* mustRemovePeer(cluster, REGION_1, peer(3, 3))
        yield* eventually(() => crashed, { what: "store 3 to write its removal" })
        yield* cluster.stopStore(S3)
        yield* cluster.wrapStorage(S3, undefined)
        yield* cluster.startStore(S3)

        // on disk: a tombstone, not a "Normal" region without this store (which nothing would ever replace)
        const raw = yield* cluster.engineMeta(S3, regionStateKey(REGION_1))
        assert.strictEqual(raw && RegionLocalStateCodec.decode(raw).state, "Tombstone", `seed ${seed}`)

        const again = yield* allocPeer(cluster, S3)
        yield* mustAddPeer(cluster, REGION_1, again)
        yield* cluster.mustPut("k2", "v2")
        yield* cluster.mustEngineHave(S3, "k2", "v2", "default", 10_000)
        yield* cluster.mustEngineHave(S3, "k1", "v1")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a peer cut off while it was removed is told so by the live members, and erased",
    () =>
      Effect.gen(function* () {
        const seed = testSeed()
        const cluster = yield* TestCluster.make({ stores: 3, seed })
        yield* cluster.start
        yield* cluster.mustPut("k1", "v1")
        yield* cluster.mustEngineHave(S3, "k1", "v1")
        // the hard case: it leads when it is cut off, so it never campaigns (no CheckQuorum), it only sends
        // heartbeats — which the live members must answer too
        yield* mustTransferLeader(cluster, REGION_1, peer(3, 3))
        yield* cluster.isolate(3)
        yield* mustRemovePeer(cluster, REGION_1, peer(3, 3))
        yield* cluster.mustPut("k2", "v2")
        // store 3 never heard of its removal: its peer lives on, campaigning
        assert.isTrue(cluster.store(S3)?.peers.has(REGION_1), `seed ${seed}`)
        yield* cluster.clearFilters
        yield* cluster.mustEngineHave(S3, "k1", undefined, "default", 10_000)
        yield* eventually(() => cluster.store(S3)?.peers.has(REGION_1) === false, { what: "store 3's peer gone" })
        const raw = yield* cluster.engineMeta(S3, regionStateKey(REGION_1))
        assert.strictEqual(raw && RegionLocalStateCodec.decode(raw).state, "Tombstone", `seed ${seed}`)
        yield* cluster.mustEngineHave(S3, "k2", undefined)
      }).pipe(Effect.scoped),
    60_000
  )
})
