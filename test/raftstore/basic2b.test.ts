import { describe, it } from "@effect/vitest"
import { genericTest } from "./generic.js"

describe("raftstore 2B", () => {
  it.live("TestBasic2B", () => genericTest({ clients: 1 }), 60_000)
  it.live("TestConcurrent2B", () => genericTest({ clients: 5 }), 60_000)
  it.live("TestUnreliable2B", () => genericTest({ clients: 5, unreliable: true }), 60_000)
  it.live("TestPersistPartitionUnreliable2B", () => genericTest({ clients: 5, unreliable: true, crash: true, partitions: true }), 90_000)
})
