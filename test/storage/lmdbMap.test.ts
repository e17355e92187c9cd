/**
 * The engine maps its file once. lmdb-js by default starts with a 128 KiB map and maps the file again, twice
 * as large, each time it fills, keeping the earlier mappings: every page of the file was then counted once per
 * mapping in the store's RSS. `layerLmdb` reserves the address space up front (`DEFAULT_MAP_BYTES`).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { assert } from "vitest"
import { layerLmdb } from "../../src/layers/storageLmdb.js"
import { Storage } from "../../src/services/Storage.js"

const mappingsOf = (file: string): number =>
  readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((line) => line.endsWith(file)).length

it.effect.skipIf(process.platform !== "linux")("8 MiB written: the data file is mapped once", () => {
  const dir = mkdtempSync(join(tmpdir(), "tinykv-lmdb-map-"))
  const value = new Uint8Array(1024).fill(7)
  return Effect.gen(function* () {
    const storage = yield* Storage
    for (let batch = 0; batch < 64; batch++) {
      const ops = Array.from({ length: 128 }, (_, i) => ({
        _tag: "Put" as const,
        space: "default" as const,
        key: new TextEncoder().encode(`k${batch * 128 + i}`),
        value
      }))
      yield* storage.write(ops)
    }
    const file = join(dir, "data.mdb")
    assert.isAtLeast(statSync(file).size, 8 * 1024 * 1024)
    assert.strictEqual(mappingsOf(file), 1)
  }).pipe(
    Effect.provide(layerLmdb(dir)),
    Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  )
})
