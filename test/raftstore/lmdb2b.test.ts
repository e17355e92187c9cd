/**
 * The production engine under the 2B/2C load: crashes (stop + restart on the same LMDB files), and log GC
 * with a log limit of 10 so that lagging stores install snapshots (range deletes and bulk loads in LMDB).
 */
import { describe, it } from "@effect/vitest"
import { genericTest, genericTimeout } from "./generic.js"

describe("raftstore on lmdb", () => {
  it.live(
    "TestPersistConcurrent2B (lmdb)",
    () => genericTest({ clients: 5, crash: true, engine: "lmdb" }),
    genericTimeout()
  )
  it.live(
    "TestSnapshotUnreliableRecoverConcurrentPartition2C (lmdb, log limit 10)",
    () => genericTest({ clients: 5, unreliable: true, crash: true, partitions: true, maxRaftLog: 10, engine: "lmdb" }),
    genericTimeout()
  )
})
