/**
 * A transactional command decides from a snapshot read through its leader and then writes: if leadership
 * went to another store and came back in between, the other leader may have written the same keys (under
 * its own store's latches), and the write would be decided from a stale snapshot — a prewrite that misses
 * a lock or a newer commit. The write carries the term the snapshot was read in, and a leader two terms
 * on refuses it (`StaleCommand`; the client retries with a fresh read), as TiKV does.
 */
import { assert, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import { utf8 } from "../../src/protocol/bytes.js"
import type { RegionId, Timestamp } from "../../src/protocol/ids.js"
import { layerKvStorageRaft } from "../../src/layers/kvStorageRaft.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { Router } from "../../src/services/Router.js"
import { mustTransferLeader } from "../../src/testing/clusterAdmin.js"
import { eventually } from "../../src/testing/eventually.js"
import { TestCluster } from "../../src/testing/TestCluster.js"
import { makeTxnHandlers } from "../../src/transaction/handlers.js"

it.live("a prewrite read in one term is refused once leadership left and came back before its write", () =>
  Effect.gen(function* () {
    const cluster = yield* TestCluster.make({ stores: 3 })
    yield* cluster.start
    const regionId = 1 as RegionId
    const leader = yield* eventually(() => cluster.leaderOf(regionId) ?? false, { what: "a leader" })
    const { region } = yield* cluster.getRegion(new Uint8Array())
    const other = region.peers.find((p) => p.id !== leader.id)!
    const store = cluster.store(leader.storeId)!
    const raft = yield* Effect.provide(
      KvStorage,
      layerKvStorageRaft({ commandTimeoutMs: 2_000 }).pipe(Layer.provide(Layer.succeed(Router, store.router)))
    )
    // the first write waits until leadership went to another store and back (two elections)
    let moveLeadership = true
    const storage = KvStorage.of({
      reader: raft.reader,
      write: (context, space, batch) =>
        Effect.gen(function* () {
          if (moveLeadership) {
            moveLeadership = false
            yield* Effect.orDie(mustTransferLeader(cluster, regionId, other))
            yield* Effect.orDie(mustTransferLeader(cluster, regionId, leader))
          }
          return yield* raft.write(context, space, batch)
        })
    })
    const handlers = yield* Effect.provideService(makeTxnHandlers, KvStorage, storage)
    const context = { regionId, regionEpoch: region.regionEpoch, peer: leader }
    const prewrite = (startVersion: number) =>
      handlers.KvPrewrite({
        context,
        mutations: [{ op: "Put", key: utf8("k"), value: utf8(`v${startVersion}`) }],
        primaryLock: utf8("k"),
        startVersion: BigInt(startVersion) as Timestamp,
        lockTtl: 3_000
      })

    const stale = yield* Effect.either(prewrite(10))
    assert.isTrue(Either.isLeft(stale) && stale.left._tag === "StaleCommand", `got ${JSON.stringify(stale)}`)
    // decided and written in one term, the same prewrite goes through
    const fresh = yield* prewrite(10)
    assert.deepStrictEqual(fresh.errors, [])
  }).pipe(Effect.scoped)
)
