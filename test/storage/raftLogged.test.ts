/**
 * The raft-logged engine (`layers/storageRaftLogged.ts`): the Storage contract over both inner engines, and the
 * order a crash may cut its writes in — a write's raft ops durable before its data, its `afterData` ops after.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { layerMemoryFrom, MemoryEngine } from "../../src/layers/storageMemory.js"
import { layerRaftLogged, raftLogged, refuseRaftLog } from "../../src/layers/storageRaftLogged.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { MemoryLogDisk } from "../../src/raftlog/memoryLog.js"
import { encodeRecord } from "../../src/raftlog/record.js"
import { SegmentedLog } from "../../src/raftlog/segmentedLog.js"
import { Storage, type WriteOp } from "../../src/services/Storage.js"
import { storageSuite } from "./conformance.js"

const dirs: Array<string> = []
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "tinykv-raftlogged-"))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

storageSuite({
  name: "raft-logged over memory",
  fresh: () => {
    const engine = new MemoryEngine()
    const disk = new MemoryLogDisk(256)
    const layer = () => layerRaftLogged(() => disk.open(), layerMemoryFrom(engine))
    return { layer: layer(), reopen: layer }
  }
})

storageSuite({
  name: "raft-logged over lmdb",
  fresh: () => {
    const dir = tmp()
    const layer = () =>
      layerRaftLogged(
        () => SegmentedLog.openDevice(join(dir, "raftlog"), { segmentBytes: 4096 }),
        layerLmdb(join(dir, "engine"), { inlineCommits: true })
      )
    return { layer: layer(), reopen: layer }
  }
})

const raftPut = (k: string, v: string, afterData = false): WriteOp => ({
  _tag: "Put",
  space: "raft",
  key: utf8(k),
  value: utf8(v),
  ...(afterData ? { afterData } : {})
})
const dataPut = (k: string, v: string): WriteOp => ({ _tag: "Put", space: "meta", key: utf8(k), value: utf8(v) })
/** The engine `layer` builds, open until the test's scope closes. */
const build = <E>(layer: Layer.Layer<Storage, E>) => Effect.map(Layer.build(layer), Context.get(Storage))
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : fromUtf8(b))

/** A store's engine and log, kept across "crashes": each `open` is a restart on what was durable. */
const machine = (segmentBytes = 256, checkpointMinBytes = 1024) => {
  const engine = new MemoryEngine({ modelSync: true })
  const disk = new MemoryLogDisk(segmentBytes)
  const open = () => build(layerRaftLogged(() => disk.open(), layerMemoryFrom(engine), { checkpointMinBytes }))
  return { engine, disk, open }
}

describe("raft-logged engine: what a crash keeps", () => {
  it.scoped("a write's raft ops are durable on return, its other ops only when synced", () =>
    Effect.gen(function* () {
      const m = machine()
      const s = yield* m.open()
      assert.strictEqual(s.logsRaft, true)
      yield* s.write([raftPut("entry-6", "e6"), dataPut("applied", "6")], { sync: false })
      assert.strictEqual(m.engine.unsyncedWrites, 1, "the data part was not synced")
      m.engine.crash()
      const after = yield* m.open()
      assert.strictEqual(text(after.latest.get("raft", utf8("entry-6"))), "e6")
      assert.strictEqual(text(after.latest.get("meta", utf8("applied"))), undefined)
    })
  )

  it.scoped("an afterData op is appended only after the data part is synced, and a write of nothing else syncs", () =>
    Effect.gen(function* () {
      const m = machine()
      const s = yield* m.open()
      yield* s.write([raftPut("entry-6", "e6")], { sync: false })
      yield* s.write(
        [
          dataPut("truncated", "6"),
          { _tag: "Delete", space: "raft", key: utf8("entry-6"), afterData: true },
          raftPut("state", "s7")
        ],
        { sync: false }
      )
      assert.strictEqual(m.engine.unsyncedWrites, 0, "the data part was synced for the afterData op")
      m.engine.crash()
      const after = yield* m.open()
      assert.strictEqual(text(after.latest.get("meta", utf8("truncated"))), "6")
      assert.strictEqual(text(after.latest.get("raft", utf8("entry-6"))), undefined)
      assert.strictEqual(text(after.latest.get("raft", utf8("state"))), "s7")
    })
  )

  it.scoped("a data part that finds no room leaves the raft part written and the afterData part unwritten", () =>
    Effect.gen(function* () {
      const engine = new MemoryEngine({ modelSync: true, quotaBytes: 64, reserveBytes: 0 })
      const disk = new MemoryLogDisk(256)
      const s = yield* build(layerRaftLogged(() => disk.open(), layerMemoryFrom(engine)))
      const failed = yield* Effect.flip(
        s.write([raftPut("first", "1"), dataPut("big", "x".repeat(100)), raftPut("after", "1", true)])
      )
      assert.strictEqual(failed._tag, "DiskFull")
      assert.strictEqual(text(s.latest.get("raft", utf8("first"))), "1")
      assert.strictEqual(text(s.latest.get("raft", utf8("after"))), undefined)
      const reopened = yield* build(layerRaftLogged(() => disk.open(), layerMemoryFrom(engine)))
      assert.strictEqual(text(reopened.latest.get("raft", utf8("after"))), undefined)
    })
  )

  it.scoped("checkpoints bound the log however long it runs, and a restart finds the same space", () =>
    Effect.gen(function* () {
      const m = machine(512, 2048)
      const s = yield* m.open()
      let maxSegments = 0
      for (let i = 0; i < 2000; i++) {
        // a region's log: entries appended, the old ones compacted, the state rewritten
        yield* s.write([raftPut(`e${String(i).padStart(6, "0")}`, `v${i}`), raftPut("state", `s${i}`)])
        if (i >= 10) {
          yield* s.write([
            { _tag: "Delete", space: "raft", key: utf8(`e${String(i - 10).padStart(6, "0")}`), afterData: true }
          ])
        }
        maxSegments = Math.max(maxSegments, m.disk.liveSegments)
      }
      assert.isAtMost(maxSegments, 12, "the log was released as it went")
      const kept = Array.from(s.latest.scan("raft"), (kv) => fromUtf8(kv.key))
      assert.strictEqual(kept.length, 11)
      m.engine.crash()
      const after = yield* m.open()
      assert.deepStrictEqual(
        Array.from(after.latest.scan("raft"), (kv) => fromUtf8(kv.key)),
        kept
      )
      assert.strictEqual(text(after.latest.get("raft", utf8("state"))), "s1999")
    })
  )

  it.scoped("replay: a checkpoint voids every record before it, whatever segments a crash left", () =>
    Effect.gen(function* () {
      const inner = yield* build(layerMemoryFrom(new MemoryEngine()))
      const put = (k: string, v: string) => ({ _tag: "Put", key: utf8(k), value: utf8(v) }) as const
      const records = [
        encodeRecord({ checkpoint: false, ops: [put("a", "1"), put("b", "1")] }),
        encodeRecord({ checkpoint: true, ops: [put("a", "2")] }),
        encodeRecord({
          checkpoint: false,
          ops: [put("c", "1"), { _tag: "DeleteRange", start: utf8("a"), end: utf8("b") }]
        })
      ].map((payload, i) => ({ sequence: i + 1, payload }))
      const device = { append: () => {}, release: () => {}, activeSequence: 3, close: () => {} }
      const s = raftLogged(inner, { device, records })
      assert.deepStrictEqual(
        Array.from(s.latest.scan("raft"), (kv) => `${fromUtf8(kv.key)}=${fromUtf8(kv.value)}`),
        ["c=1"]
      )
    })
  )

  it.scoped("a snapshot reader sees the raft space as it stood", () =>
    Effect.gen(function* () {
      const s = yield* machine().open()
      yield* s.write([raftPut("k", "1")])
      const reader = yield* s.snapshot
      yield* s.write([raftPut("k", "2"), raftPut("l", "1")])
      assert.strictEqual(text(reader.get("raft", utf8("k"))), "1")
      assert.strictEqual(Array.from(reader.scan("raft")).length, 1)
      assert.strictEqual(text(s.latest.get("raft", utf8("k"))), "2")
    })
  )
})

describe("raft-logged engine over lmdb", () => {
  it.scoped("data written unsynced is visible at once and after a reopen", () =>
    Effect.gen(function* () {
      const dir = tmp()
      const layer = layerRaftLogged(
        () => SegmentedLog.openDevice(join(dir, "raftlog"), { segmentBytes: 4096 }),
        layerLmdb(join(dir, "engine"), { inlineCommits: true })
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const s = yield* build(layer)
          yield* s.write([raftPut("entry", "e"), dataPut("applied", "a")], { sync: false, idle: true })
          assert.strictEqual(text(s.latest.get("meta", utf8("applied"))), "a")
        })
      )
      const s = yield* build(layer)
      assert.strictEqual(text(s.latest.get("meta", utf8("applied"))), "a")
      assert.strictEqual(text(s.latest.get("raft", utf8("entry"))), "e")
    })
  )
})

describe("raft-logged engine: a data dir from before, and one from after", () => {
  it.scoped("a raft space the engine still holds moves to the log at the first start, and stays there", () =>
    Effect.gen(function* () {
      const dir = tmp()
      const engine = () => layerLmdb(join(dir, "engine"))
      const logged = () =>
        layerRaftLogged(() => SegmentedLog.openDevice(join(dir, "raftlog"), { segmentBytes: 4096 }), engine())
      // a store that kept its raft log in the engine
      yield* Effect.scoped(
        Effect.flatMap(build(engine()), (s) =>
          s.write([raftPut("state", "s"), raftPut("entry-6", "e6"), dataPut("applied", "6")], { sync: true })
        )
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const s = yield* build(logged())
          assert.strictEqual(text(s.latest.get("raft", utf8("entry-6"))), "e6")
          assert.strictEqual(text(s.latest.get("meta", utf8("applied"))), "6")
        })
      )
      const plain = yield* Effect.scoped(Effect.map(build(engine()), (s) => Array.from(s.latest.scan("raft")).length))
      assert.strictEqual(plain, 0, "the engine's raft space is empty after the move")
      const s = yield* build(logged())
      assert.strictEqual(text(s.latest.get("raft", utf8("state"))), "s")
    })
  )

  it.scoped("a data dir whose raft log is a log of its own is refused by a store that would look in the engine", () =>
    Effect.gen(function* () {
      const dir = tmp()
      yield* Effect.scoped(
        Effect.flatMap(
          build(
            layerRaftLogged(
              () => SegmentedLog.openDevice(join(dir, "raftlog"), { segmentBytes: 4096 }),
              layerLmdb(join(dir, "engine"))
            )
          ),
          (s) => s.write([raftPut("state", "s")])
        )
      )
      const refused = yield* Effect.flip(
        Effect.scoped(build(Layer.provide(refuseRaftLog(join(dir, "raftlog")), layerLmdb(join(dir, "engine")))))
      )
      assert.match(refused.message, /--raft-engine log/)
      // an empty one is fine
      const fresh = tmp()
      yield* Effect.scoped(
        build(Layer.provide(refuseRaftLog(join(fresh, "raftlog")), layerLmdb(join(fresh, "engine"))))
      )
    })
  )
})
