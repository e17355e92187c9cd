/**
 * Run by `test/storage/lmdbTmpfs.test.ts` inside a mount namespace whose `DIR` is a small tmpfs (`DIR [inline]`): fills the
 * file system with a filler file, then writes through a standalone `KvStorage` on lmdb until a write is
 * refused, frees the filler and writes again. Prints one JSON line with what it saw.
 */
import { rmSync, statfsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Context, Effect, Layer, Schedule } from "effect"
import { layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { utf8 } from "../../src/protocol/bytes.js"
import { KvStorage } from "../../src/services/KvStorage.js"
import { Storage } from "../../src/services/Storage.js"

const dir = process.argv[2]!
// "inline": the engine as a raftstore opens it (small writes commit on the calling thread)
const inlineCommits = process.argv[3] === "inline"
const filler = join(dir, "filler")
const engineDir = join(dir, "engine")
const value = new Uint8Array(1000).fill(7)
const key = (i: number) => utf8(`key-${String(i).padStart(6, "0")}`)

// leave about 1 MiB for the engine
const fs = statfsSync(dir)
writeFileSync(filler, new Uint8Array(Math.max(0, fs.bavail * fs.bsize - 1024 * 1024)))

const open = Layer.build(
  layerStandalone.pipe(Layer.provideMerge(layerLmdb(engineDir, { minFreeBytes: 0, inlineCommits })))
)

const run = Effect.gen(function* () {
  const { acked, refused, readBack, diskFullAfter, roomSeen, afterFree } = yield* Effect.scoped(
    Effect.gen(function* () {
      const ctx = yield* open
      const kv = Context.get(ctx, KvStorage)
      const storage = Context.get(ctx, Storage)
      let acked = 0
      let refused: string | undefined
      while (refused === undefined && acked < 100_000) {
        const r = yield* Effect.either(
          kv.write(undefined, "raw", [{ _tag: "Put", cf: "default", key: key(acked), value }])
        )
        if (r._tag === "Left") refused = r.left._tag
        else acked++
      }
      const reader = yield* kv.reader(undefined, "raw")
      let readBack = 0
      for (let i = 0; i < acked; i++) if (reader.getCF("default", key(i))?.length === value.length) readBack++
      const diskFullAfter = storage.diskFull() !== undefined
      rmSync(filler)
      // the engine sees the space back at its next check (every second)
      const seen = yield* Effect.sync(() => storage.diskFull() === undefined).pipe(
        Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (room) => room }),
        Effect.timeoutOption("5 seconds")
      )
      const again = yield* Effect.either(
        kv.write(undefined, "raw", [{ _tag: "Put", cf: "default", key: key(acked), value }])
      )
      return {
        acked,
        refused,
        readBack,
        diskFullAfter,
        roomSeen: seen._tag === "Some",
        afterFree: again._tag === "Right"
      }
    })
  )
  // reopened, the engine holds every acknowledged write and the one after freeing space
  const reopened = yield* Effect.scoped(
    Effect.gen(function* () {
      const reader = yield* Context.get(yield* open, KvStorage).reader(undefined, "raw")
      return Array.from(reader.iterCF("default", new Uint8Array())).length
    })
  )
  return { acked, refused, readBack, diskFullAfter, roomSeen, afterFree, reopened }
})

Effect.runPromise(run).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e) => {
    process.stdout.write(`${JSON.stringify({ died: String(e) })}\n`)
    process.exitCode = 1
  }
)
