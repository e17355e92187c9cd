/**
 * TinyKV's scenarios on stores whose raft log is a log of its own (`layers/storageRaftLogged.ts`, the server's
 * default `--raft-engine log`): crashes and restarts, snapshots of a compacted log, membership changes and splits,
 * on the memory twin of the log and on real segment files. (`TINYKV_TEST_RAFT_LOG=1 npx vitest run test/raftstore`
 * runs every raftstore test so; the simulator's power losses are in `test/sim`.)
 */
import { describe, it } from "@effect/vitest"
import { genericTest, genericTimeout } from "./generic.js"

describe("raftstore scenarios with a raft log of its own", () => {
  it.live(
    "persistence: concurrent clients, an unreliable network, every store crashed between iterations",
    () => genericTest({ clients: 5, unreliable: true, crash: true, raftLog: true }),
    genericTimeout()
  )
  it.live(
    "snapshots: a log compacted every 10 entries, crashes and partitions",
    () => genericTest({ clients: 5, crash: true, partitions: true, maxRaftLog: 10, raftLog: true }),
    genericTimeout()
  )
  it.live(
    "membership changes with snapshots and crashes",
    () => genericTest({ clients: 5, crash: true, confchange: true, maxRaftLog: 100, raftLog: true }),
    genericTimeout()
  )
  it.live(
    "splits with crashes",
    () => genericTest({ clients: 5, crash: true, split: true, maxRaftLog: 100, raftLog: true }),
    genericTimeout()
  )
  it.live(
    "on lmdb and segment files: crashes and snapshots",
    () => genericTest({ clients: 3, stores: 3, crash: true, maxRaftLog: 10, engine: "lmdb", raftLog: true }),
    genericTimeout()
  )
})
