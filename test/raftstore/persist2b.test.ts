/** TinyKV 2B persistence: every store crashes and restarts between iterations. */
import { describe, it } from "@effect/vitest"
import { genericTest, genericTimeout } from "./generic.js"

describe("raftstore 2B persistence", () => {
  it.live("TestPersistOneClient2B", () => genericTest({ clients: 1, crash: true }), genericTimeout())
  it.live("TestPersistConcurrent2B", () => genericTest({ clients: 5, crash: true }), genericTimeout())
  it.live(
    "TestPersistConcurrentUnreliable2B",
    () => genericTest({ clients: 5, unreliable: true, crash: true }),
    genericTimeout()
  )
  it.live("TestPersistPartition2B", () => genericTest({ clients: 5, crash: true, partitions: true }), genericTimeout())
  it.live(
    "TestPersistPartitionUnreliable2B",
    () => genericTest({ clients: 5, unreliable: true, crash: true, partitions: true }),
    genericTimeout()
  )
})
