/**
 * A raft log segment (`src/raftlog/segment.ts`): records read back in order after a reopen; a crash in the middle of
 * an append (some of its blocks on disk, some not) leaves exactly the records appended before it plus a prefix of
 * its own; a record left whole behind a torn one is never read after a later, shorter append; a recycled file
 * shows nothing of its earlier life. The crash runs are seeded: a failure prints its seed, and `SEGMENT_SEED=N`
 * replays it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { mulberry32 as rng } from "../../src/raft/rng.js"
import { Segment } from "../../src/raftlog/segment.js"

const dir = () => mkdtempSync(join(tmpdir(), "tinykv-segment-"))
const bytes = (text: string) => new TextEncoder().encode(text)
const texts = (records: ReadonlyArray<Uint8Array>) => records.map((r) => new TextDecoder().decode(r))

describe("a raft log segment", () => {
  it("reads its records back in order after a reopen, and appends after them", () => {
    const path = join(dir(), "1.log")
    const s = Segment.create(path, 1, 64 * 1024)
    s.append([bytes("a"), bytes("bb")])
    s.append([bytes("ccc")])
    const size = s.size
    s.close()
    const { segment, records } = Segment.open(path, 1)
    assert.deepStrictEqual(texts(records), ["a", "bb", "ccc"])
    assert.strictEqual(segment.size, size)
    segment.append([bytes("dddd")])
    segment.close()
    assert.deepStrictEqual(texts(Segment.open(path, 1).records), ["a", "bb", "ccc", "dddd"])
  })

  it("refuses what does not fit, an empty record and a sequence of 0, and writes nothing then", () => {
    const path = join(dir(), "1.log")
    const s = Segment.create(path, 7, 100)
    s.append([new Uint8Array(60).fill(1)])
    assert.isFalse(s.fits([new Uint8Array(30)]))
    assert.throws(() => s.append([new Uint8Array(30)]), /do not fit/)
    assert.throws(() => s.append([bytes("x"), new Uint8Array()]), /empty record/)
    s.close()
    assert.lengthOf(Segment.open(path, 7).records, 1)
    assert.lengthOf(Segment.open(path, 8).records, 0, "another sequence's records are not read")
    assert.throws(() => Segment.create(join(dir(), "0.log"), 0, 100), /sequence/)
  })

  it("a recycled file shows nothing of its earlier life", () => {
    const d = dir()
    const old = Segment.create(join(d, "1.log"), 1, 4096)
    old.append([bytes("old-1"), bytes("old-2")])
    old.close()
    const s = Segment.recycle(join(d, "1.log"), join(d, "5.log"), 5)
    assert.strictEqual(s.capacity, 4096)
    assert.lengthOf(Segment.open(join(d, "5.log"), 5).records, 0)
    s.append([bytes("new")])
    s.close()
    assert.deepStrictEqual(texts(Segment.open(join(d, "5.log"), 5).records), ["new"])
  })

  it("never reads a record left whole behind a torn one once a shorter append went over the torn one", () => {
    const path = join(dir(), "1.log")
    const s = Segment.create(path, 1, 8192)
    s.append([bytes("acked")])
    const start = s.size
    const before = readFileSync(path)
    // B fills more than the first 512-byte block of the append; C lies wholly past it
    s.append([new Uint8Array(600).fill(66), bytes("C-left-whole")])
    s.close()
    // the crash: B's first block never reached the disk, C's block did
    const torn = readFileSync(path)
    before.copy(torn, start, start, start + 512)
    writeFileSync(path, torn)
    const reopened = Segment.open(path, 1)
    assert.deepStrictEqual(texts(reopened.records), ["acked"])
    // after the restart, a record of exactly B's length goes over it
    reopened.segment.append([new Uint8Array(600).fill(98)])
    reopened.segment.close()
    const after = Segment.open(path, 1).records
    assert.lengthOf(after, 2, "C, which the store never finished writing, is not read after the new record")
    assert.strictEqual(after[1]![0], 98)
  })

  it("a crash in an append keeps the records before it and a prefix of its own, in 40 seeded runs", () => {
    const first = Number(process.env.SEGMENT_SEED ?? Date.now() % 1_000_000)
    const runs = process.env.SEGMENT_SEED === undefined ? 40 : 1
    for (let seed = first; seed < first + runs; seed++) {
      const random = rng(seed)
      const path = join(dir(), "1.log")
      const s = Segment.create(path, 3, 256 * 1024)
      const acked: Array<string> = []
      const record = (i: number) => `${i}:${"x".repeat(1 + Math.floor(random() * 700))}`
      let n = 0
      for (let b = Math.floor(random() * 8); b > 0; b--) {
        const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () => record(n++))
        s.append(batch.map(bytes))
        acked.push(...batch)
      }
      const start = s.size
      const before = readFileSync(path)
      const crashed = Array.from({ length: 1 + Math.floor(random() * 5) }, () => record(n++))
      s.append(crashed.map(bytes))
      s.close()
      // each 512-byte block of the crashed append reached the disk or did not
      const after = readFileSync(path)
      const mixed = Buffer.from(after)
      for (let at = start; at < after.length && at < start + 8192; at += 512) {
        if (random() < 0.5) before.copy(mixed, at, at, Math.min(at + 512, after.length))
      }
      writeFileSync(path, mixed)
      const got = texts(Segment.open(path, 3).records)
      const label = `seed ${seed} (replay: SEGMENT_SEED=${seed})`
      assert.deepStrictEqual(got.slice(0, acked.length), acked, label)
      assert.deepStrictEqual(got.slice(acked.length), crashed.slice(0, got.length - acked.length), label)
      // and a later append continues the recovered records, with nothing of the crashed append after it
      const reopened = Segment.open(path, 3)
      reopened.segment.append([bytes("after")])
      reopened.segment.close()
      assert.deepStrictEqual(texts(Segment.open(path, 3).records), [...got, "after"], label)
    }
  })
})
