/** TinyKV 2C: log GC and snapshots under message loss, crashes and partitions. */
import { describe, it } from "@effect/vitest"
import { genericTest, genericTimeout } from "./generic.js"

describe("raftstore 2C snapshots, unreliable", () => {
  it.live(
    "TestSnapshotUnreliable2C",
    () => genericTest({ clients: 5, unreliable: true, maxRaftLog: 100 }),
    genericTimeout()
  )
  it.live(
    "TestSnapshotUnreliableRecover2C",
    () => genericTest({ clients: 5, unreliable: true, crash: true, maxRaftLog: 100 }),
    genericTimeout()
  )
  it.live(
    "TestSnapshotUnreliableRecoverConcurrentPartition2C",
    () => genericTest({ clients: 5, unreliable: true, crash: true, partitions: true, maxRaftLog: 100 }),
    genericTimeout()
  )
})
