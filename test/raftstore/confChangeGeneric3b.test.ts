/**
 * TinyKV 3B: the generic scenarios with a conf changer adding and removing peers at random
 * while clients append and scan, with crashes, message loss, partitions and log compaction. (The split
 * scenarios are the region split's.)
 */
import { describe, it } from "@effect/vitest"
import { genericTest, genericTimeout } from "./generic.js"

describe("raftstore 3B conf change, generic", () => {
  it.live("TestConfChangeRecover3B", () => genericTest({ clients: 1, crash: true, confchange: true }), genericTimeout())
  it.live(
    "TestConfChangeRecoverManyClients3B",
    () => genericTest({ clients: 5, crash: true, confchange: true }),
    genericTimeout()
  )
  it.live(
    "TestConfChangeUnreliable3B",
    () => genericTest({ clients: 5, unreliable: true, confchange: true }),
    genericTimeout()
  )
  it.live(
    "TestConfChangeUnreliableRecover3B",
    () => genericTest({ clients: 5, unreliable: true, crash: true, confchange: true }),
    genericTimeout()
  )
  it.live(
    "TestConfChangeSnapshotUnreliableRecover3B",
    () => genericTest({ clients: 5, unreliable: true, crash: true, maxRaftLog: 100, confchange: true }),
    genericTimeout()
  )
  it.live(
    "TestConfChangeSnapshotUnreliableRecoverConcurrentPartition3B",
    () =>
      genericTest({ clients: 5, unreliable: true, crash: true, partitions: true, maxRaftLog: 100, confchange: true }),
    genericTimeout()
  )
})
