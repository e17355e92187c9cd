/**
 * A raft log's segments in one directory (`src/raftlog/segmentedLog.ts`): appends roll over segments and read back
 * in order; released segments are reused (no new file) or deleted; an append larger than a segment gets one of its
 * own; a crash in an append of the active segment leaves every earlier segment whole and a prefix of the append.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import { SegmentedLog } from "../../src/raftlog/segmentedLog.js"

const dir = () => mkdtempSync(join(tmpdir(), "tinykv-log-"))
const record = (i: number) => new TextEncoder().encode(`record-${i}-${"x".repeat(i % 50)}`)
const textOf = (r: { readonly payload: Uint8Array }) => new TextDecoder().decode(r.payload)
const files = (d: string) => readdirSync(d).sort()

describe("a segmented raft log", () => {
  it("rolls over segments as they fill and reads every record back in order", () => {
    const d = dir()
    const { log, records } = SegmentedLog.open(d, { segmentBytes: 512 })
    assert.lengthOf(records, 0)
    for (let i = 0; i < 60; i++) log.append([record(i)])
    assert.isAbove(log.liveSegments, 3)
    const active = log.activeSequence
    log.close()
    const reopened = SegmentedLog.open(d, { segmentBytes: 512 })
    assert.deepStrictEqual(
      reopened.records.map(textOf),
      Array.from({ length: 60 }, (_, i) => textOf({ payload: record(i) }))
    )
    // sequences ascend with the records, and appends go on in the segment that was active
    const sequences = reopened.records.map((r) => r.sequence)
    assert.deepStrictEqual(
      sequences,
      [...sequences].sort((a, b) => a - b)
    )
    assert.strictEqual(reopened.log.activeSequence, active)
    reopened.log.append([record(60)])
    reopened.log.close()
    assert.lengthOf(SegmentedLog.open(d, { segmentBytes: 512 }).records, 61)
  })

  it("reuses released segments instead of making new files, keeps at most keepFree, and reads none of them", () => {
    const d = dir()
    const { log } = SegmentedLog.open(d, { segmentBytes: 512, keepFree: 1 })
    for (let i = 0; i < 40; i++) log.append([record(i)])
    const active = log.activeSequence
    assert.isAbove(active, 3)
    log.release(active)
    assert.strictEqual(log.liveSegments, 1)
    assert.strictEqual(log.freeSegments, 1, "one kept for reuse, the others deleted")
    assert.deepStrictEqual(
      files(d).filter((f) => f.startsWith("free-")),
      ["free-1.log"]
    )
    // the next roll takes the free file: still two files in all
    while (log.activeSequence === active) log.append([record(99)])
    assert.strictEqual(log.freeSegments, 0)
    assert.lengthOf(files(d), 2)
    log.close()
    const { records } = SegmentedLog.open(d, { segmentBytes: 512, keepFree: 1 })
    assert.isTrue(
      records.every((r) => r.sequence >= active),
      "nothing of a released segment is read"
    )
    assert.isTrue(records.slice(-1).every((r) => textOf(r) === textOf({ payload: record(99) })))
  })

  it("gives an append larger than a segment a segment of its own", () => {
    const d = dir()
    const { log } = SegmentedLog.open(d, { segmentBytes: 256 })
    log.append([record(1)])
    const big = new Uint8Array(4000).fill(7)
    log.append([big, record(2)])
    log.close()
    const { records } = SegmentedLog.open(d, { segmentBytes: 256 })
    assert.deepStrictEqual(
      records.map((r) => r.payload.length),
      [record(1).length, 4000, record(2).length]
    )
    assert.notStrictEqual(records[0]!.sequence, records[1]!.sequence)
  })

  it("after a crash in an append to the active segment, keeps the earlier segments whole and a prefix of the append", () => {
    const d = dir()
    const { log } = SegmentedLog.open(d, { segmentBytes: 4096 })
    for (let i = 0; i < 60; i++) log.append([record(i)])
    const big = new Uint8Array(1500).fill(9)
    const rolled = !(log.activeSize + 2000 <= 4096)
    const start = rolled ? 0 : log.activeSize
    log.append([record(100), big])
    const end = log.activeSize
    const activeFile = join(d, `${String(log.activeSequence).padStart(16, "0")}.log`)
    log.close()
    // the crash: only the append's first 512-byte block reached the disk (the rest of the file was zero-filled)
    const file = readFileSync(activeFile)
    file.fill(0, start + 512, end)
    writeFileSync(activeFile, file)
    const { records } = SegmentedLog.open(d, { segmentBytes: 4096 })
    assert.deepStrictEqual(records.map(textOf), [
      ...Array.from({ length: 60 }, (_, i) => textOf({ payload: record(i) })),
      textOf({ payload: record(100) })
    ])
  })

  it("refuses a segment size too small to hold a record", () => {
    assert.throws(() => SegmentedLog.open(dir(), { segmentBytes: 10 }), /segmentBytes/)
  })
})
