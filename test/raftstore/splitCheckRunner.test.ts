/**
 * The split check's background half (`splitCheckRunner.ts`) against a fake peer: every split key one check
 * found is proposed, from the last to the first, each under the epoch the previous split left; a split that is
 * not applied stops the rest and is reported as still pending, so the peer checks again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { NotLeader } from "../../src/protocol/errorpb.js"
import type { PeerId, RegionId, StoreId } from "../../src/protocol/ids.js"
import { physicalKey } from "../../src/protocol/keyspace.js"
import type { Region } from "../../src/protocol/metapb.js"
import { adminResponse, errorResponse } from "../../src/raftstore/responses.js"
import { splitRegions } from "../../src/raftstore/split.js"
import { MAX_SPLIT_KEYS } from "../../src/raftstore/splitCheck.js"
import { runSplitCheck, type SplitDeps } from "../../src/raftstore/splitCheckRunner.js"
import type { PeerMsg, Router } from "../../src/services/Router.js"
import type { SchedulerClient } from "../../src/services/SchedulerClient.js"
import { Storage } from "../../src/services/Storage.js"

const leader = { id: 1 as PeerId, storeId: 1 as StoreId }
const region: Region = {
  id: 1 as RegionId,
  startKey: new Uint8Array(0),
  endKey: new Uint8Array(0),
  regionEpoch: { confVer: 1, version: 5 },
  peers: [leader]
}

type Result = Extract<PeerMsg, { _tag: "SplitCheckResult" }>

/** A peer that applies splits (or, `refuse`, answers NotLeader), and records what reached it. */
const fakePeer = (refuse: boolean) => {
  let current = region
  let nextId = 100
  const proposed: Array<{ key: string; version: number }> = []
  const results: Array<Result> = []
  const router = {
    send: (_regionId: RegionId, msg: PeerMsg) =>
      Effect.gen(function* () {
        if (msg._tag === "SplitCheckResult") results.push(msg)
        if (msg._tag !== "RaftCommand" || msg.request.adminRequest?._tag !== "Split") return
        const split = msg.request.adminRequest
        proposed.push({ key: fromUtf8(split.splitKey), version: msg.request.header.regionEpoch.version })
        if (refuse) {
          yield* Deferred.succeed(msg.reply, errorResponse(new NotLeader({ regionId: region.id })))
          return
        }
        assert.strictEqual(msg.request.header.regionEpoch.version, current.regionEpoch.version, "the current epoch")
        const { left, right } = splitRegions(current, split)
        current = left
        yield* Deferred.succeed(msg.reply, adminResponse({ _tag: "Split", regions: [left, right] }, 1))
      })
  } as unknown as Router["Type"]
  const scheduler = {
    askSplit: () => Effect.sync(() => ({ newRegionId: nextId++ as RegionId, newPeerIds: [nextId++ as PeerId] }))
  } as unknown as SchedulerClient["Type"]
  return { router, scheduler, proposed, results }
}

/** 1,000 raw keys `k0000`…`k0999` of equal size, then one split check cutting pieces of 4 keys. */
const check = (refuse: boolean) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const ops = Array.from({ length: 1000 }, (_, i) => ({
      _tag: "Put" as const,
      space: "default" as const,
      key: physicalKey("raw", utf8(`k${String(i).padStart(4, "0")}`)),
      value: utf8("x".repeat(10))
    }))
    yield* storage.write(ops)
    const each = ops[0]!.key.length + ops[0]!.value.length
    const peer = fakePeer(refuse)
    const deps: SplitDeps = { storage, router: peer.router, scheduler: peer.scheduler, commandTimeoutMs: 1000 }
    yield* runSplitCheck(deps, {
      region,
      leader,
      policy: { _tag: "BySize", splitSize: 4 * each, maxSize: 6 * each }
    })
    return peer
  }).pipe(Effect.provide(layerMemory))

describe("split check runner", () => {
  it.effect("every key found is proposed, last first, each under the epoch the previous split left", () =>
    Effect.gen(function* () {
      const { proposed, results } = yield* check(false)
      const keys = Array.from({ length: MAX_SPLIT_KEYS }, (_, i) => `k${String(4 * (i + 1)).padStart(4, "0")}`)
      assert.deepStrictEqual(
        proposed,
        keys.reverse().map((key, i) => ({ key, version: region.regionEpoch.version + i }))
      )
      assert.strictEqual(results.length, 1)
      assert.isFalse(results[0]!.splitPending)
      assert.strictEqual(results[0]!.version, region.regionEpoch.version)
    })
  )

  it.effect("a split refused stops the rest and is reported pending, with the size measured", () =>
    Effect.gen(function* () {
      const { proposed, results } = yield* check(true)
      assert.deepStrictEqual(
        proposed.map((p) => p.key),
        [`k${String(4 * MAX_SPLIT_KEYS).padStart(4, "0")}`]
      )
      assert.strictEqual(results.length, 1)
      assert.isTrue(results[0]!.splitPending)
      assert.isAbove(results[0]!.size ?? 0, 0)
    })
  )
})
