/** The production engine under the 2B/2C load: crashes (stop + restart on the same LMDB files) and log GC. */
import { describe, it } from "@effect/vitest"
import { genericTest } from "./generic.js"

describe("raftstore on lmdb", () => {
  it.live("TestPersistConcurrent2B (lmdb)", () => genericTest({ clients: 5, crash: true, engine: "lmdb" }), 90_000)
  it.live(
    "TestSnapshotUnreliableRecover2C (lmdb)",
    () => genericTest({ clients: 5, unreliable: true, crash: true, maxRaftLog: 100, engine: "lmdb" }),
    90_000
  )
})
