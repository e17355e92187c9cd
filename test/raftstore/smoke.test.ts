import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import type { RegionId } from "../../src/protocol/ids.js"
import { TestCluster } from "../../src/testing/TestCluster.js"

describe("raftstore smoke", () => {
  it.live(
    "5 stores elect a leader, replicate a put, and read it back",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const cluster = yield* TestCluster.make({ stores: 5 })
          yield* cluster.start
          yield* cluster.mustPut("k1", "v1")
          const v = yield* cluster.get("k1")
          assert.strictEqual(v && fromUtf8(v), "v1")
          yield* cluster.mustGet("k1", "v1")
          const wrong = yield* Effect.flip(cluster.mustGet("k1", "other"))
          assert.strictEqual(wrong._tag, "ClusterRequestFailed")
          for (const id of cluster.storeIds) yield* cluster.mustEngineHave(id, "k1", "v1")
          const leader = cluster.leaderOf(1 as RegionId)
          assert.isDefined(leader)
        })
      ),
    30_000
  )
})
