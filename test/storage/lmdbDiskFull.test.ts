/**
 * A standalone store on lmdb whose disk fills: lmdb grows its map by itself, so the limit is the engine's
 * quota (the pages in use) or the file system's free space (`LmdbOptions`). Writes that put data are
 * refused with `DiskFull`, reads and deletes go on, the store stays up, and deleting data gives room back.
 * See docs/OPERATIONS.md "Disk full".
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { describeError } from "../../src/client/errors.js"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { isNoSpace, type LmdbOptions, layerLmdb } from "../../src/layers/storageLmdb.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { Storage } from "../../src/services/Storage.js"
import { startStandalone } from "../support/standalone.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "tinykv-diskfull-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const quota: LmdbOptions = { quotaBytes: 256 * 1024, reserveBytes: 32 * 1024, minFreeBytes: 0 }
const value = new Uint8Array(1000).fill(7)
const key = (i: number) => utf8(`key-${String(i).padStart(5, "0")}`)

const engine = (dir: string, options: LmdbOptions) =>
  Effect.map(Layer.build(layerStandalone.pipe(Layer.provideMerge(layerLmdb(dir, options)))), (ctx) => ({
    kv: Context.get(ctx, KvStorage),
    storage: Context.get(ctx, Storage)
  }))

const put = (kv: KvStorage["Type"], i: number) =>
  kv.write(undefined, "raw", [{ _tag: "Put", cf: "default", key: key(i), value }])

describe("lmdb disk full", () => {
  it.scoped("writes past the quota fail with DiskFull; reads go on; deleting data lets writes resume", () =>
    Effect.gen(function* () {
      const { kv, storage } = yield* engine(yield* tempDir, quota)
      let written = 0
      let refused: { _tag: string } | undefined
      while (refused === undefined && written < 2000) {
        const r = yield* Effect.either(put(kv, written))
        if (r._tag === "Left") refused = r.left
        else written++
      }
      assert.strictEqual(refused?._tag, "DiskFull", `after ${written} writes`)
      assert.isAbove(written, 50)
      assert.isDefined(storage.diskFull())
      // below the client's limit, the engine's own writes (the reserve) go on until the quota itself
      let reserved = 0
      let hardLimit: { _tag: string } | undefined
      while (hardLimit === undefined && reserved < 2000) {
        const r = yield* Effect.either(
          storage.write([{ _tag: "Put", space: "raft", key: utf8(`reserve-${reserved}`), value }], { sync: true })
        )
        if (r._tag === "Left") hardLimit = r.left
        else reserved++
      }
      assert.strictEqual(hardLimit?._tag, "DiskFull", `after ${reserved} writes into the reserve`)
      assert.isAbove(reserved, 0)
      // every acknowledged write is there, and the store still reads
      const reader = yield* kv.reader(undefined, "raw")
      for (let i = 0; i < written; i++) assert.deepStrictEqual(reader.getCF("default", key(i)), value, `key ${i}`)
      // deleting is let through, and gives the room back
      yield* kv.write(
        undefined,
        "raw",
        Array.from({ length: written }, (_, i) => ({ _tag: "Delete" as const, cf: "default" as const, key: key(i) }))
      )
      yield* storage.write(
        Array.from({ length: reserved }, (_, i) => ({
          _tag: "Delete" as const,
          space: "raft" as const,
          key: utf8(`reserve-${i}`)
        }))
      )
      assert.isUndefined(storage.diskFull())
      yield* put(kv, 0)
      assert.deepStrictEqual((yield* kv.reader(undefined, "raw")).getCF("default", key(0)), value)
    })
  )

  it.scoped("too little free space on the file system refuses puts, not deletes", () =>
    Effect.gen(function* () {
      const { kv, storage } = yield* engine(yield* tempDir, { minFreeBytes: Number.MAX_SAFE_INTEGER })
      assert.match(storage.diskFull() ?? "", /bytes free under/)
      const refused = yield* Effect.flip(put(kv, 1))
      assert.strictEqual(refused._tag, "DiskFull")
      yield* kv.write(undefined, "raw", [{ _tag: "Delete", cf: "default", key: key(1) }])
    })
  )

  it.scoped("a client of a full standalone store sees DiskFull in one line, and the store stays up", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone(yield* tempDir, undefined, quota)
      const kv = Context.get(yield* Layer.build(TinyKvClient.layer({ store: address })), TinyKvClient)
      let n = 0
      let refused: { _tag: string } | undefined
      while (refused === undefined && n < 2000) {
        const r = yield* Effect.either(kv.rawPut(`key-${n}`, value))
        if (r._tag === "Left") refused = r.left
        else n++
      }
      assert.strictEqual(refused?._tag, "DiskFull")
      const line = describeError(refused)
      assert.match(
        line,
        /^the store is out of disk space \(.*\): writes are refused until space is freed; reads still work$/
      )
      assert.notInclude(line, "\n")
      assert.deepStrictEqual(yield* kv.rawGet("key-0"), value)
      for (let i = 0; i < n; i++) yield* kv.rawDelete(`key-${i}`)
      yield* kv.rawPut("again", "1")
      assert.strictEqual(new TextDecoder().decode((yield* kv.rawGet("again"))!), "1")
    })
  )

  it("no-space failures are recognised by code or message", () => {
    assert.isTrue(isNoSpace(Object.assign(new Error("write failed"), { code: "ENOSPC" })))
    assert.isTrue(isNoSpace(new Error("MDB_MAP_FULL: Environment mapsize limit reached")))
    assert.isTrue(isNoSpace(new Error("No space left on device")))
    assert.isFalse(isNoSpace(new Error("MDB_BAD_TXN")))
    assert.isFalse(isNoSpace("ENOSPC as a string is not an error object"))
  })
})
