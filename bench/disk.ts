/**
 * What one durable write costs on this machine's disk, alone and with other writers at once: the figures behind
 * "a raft log of its own" (docs/PERFORMANCE.md, "A follower's round on the calling thread").
 *
 * `npm run bench -- disk [--ops 1000] [--writers 3] [--reps 2] [--dir DIR]`: two ways of making one sequential
 * put's round durable, each run in `--writers` processes at once (the three stores of a local cluster flush at the
 * same time) and in one process alone, `--ops` times per process, in a fresh directory under `--dir` (default: the
 * system's temporary directory; it must be on the disk to measure, not a tmpfs):
 * - `lmdb`: what a raftstore's round does now: one synced LMDB transaction (`transactionSync`, as `inlineCommits`)
 *   of a sequential put's writes — an entry of 300 B and the raft state in the raft space, 128 B of data in the
 *   default space, the apply state in the meta space.
 * - `wal`: what a log of its own does: the same 300 B appended as one record to a raft log
 *   (`src/raftlog/segmentedLog.ts`: segments of 64 KiB, written over blocks of a file zero-filled when it was
 *   made, so no block is allocated and no size changes; one `fdatasync` per append; a full segment rolls over to
 *   a released one reused, as a log that compacts would), each append timed, its rolls included.
 *
 * Per rep (the order of the two alternates), way and number of writers: p50/p90/p99 ms of each writer.
 */
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { open } from "lmdb"
import { SegmentedLog } from "../src/raftlog/segmentedLog.js"
import { flagOf } from "./flags.js"
import { percentile, round } from "./workloads.js"

type Mode = "lmdb" | "wal"
interface Latency {
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
}

const ENTRY_BYTES = 300

const percentiles = (samples: ReadonlyArray<number>): Latency => {
  const sorted = Float64Array.from(samples).sort()
  return {
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99))
  }
}

/** One writer: `ops` durable writes the `mode` way in `dir`; the latency of each. */
const measure = (mode: Mode, dir: string, ops: number): Latency => {
  mkdirSync(dir, { recursive: true })
  const entry = Buffer.alloc(ENTRY_BYTES, 1)
  const took: Array<number> = []
  if (mode === "wal") {
    // segments of 64 KiB, so a run rolls over some and reuses the released ones, as a log that compacts would
    const { log } = SegmentedLog.open(dir, { segmentBytes: 64 * 1024 })
    for (let i = 0; i < ops; i++) {
      const started = performance.now()
      log.append([entry])
      took.push(performance.now() - started)
      log.release(log.activeSequence)
    }
    log.close()
    return percentiles(took)
  }
  const root = open({ path: dir, mapSize: 1 << 30, encoding: "binary", keyEncoding: "binary" })
  const db = (name: string) => root.openDB(name, { encoding: "binary", keyEncoding: "binary" })
  const raft = db("raft")
  const data = db("default")
  const meta = db("meta")
  for (let i = 0; i < ops; i++) {
    const started = performance.now()
    root.transactionSync(() => {
      raft.put(Buffer.from(`entry-${String(i).padStart(8, "0")}`), entry)
      raft.put(Buffer.from("raft-state"), entry.subarray(0, 40))
      data.put(Buffer.from(`key-${(i * 7919) % 100_000}`), entry.subarray(0, 128))
      meta.put(Buffer.from("apply-state"), entry.subarray(0, 40))
    })
    took.push(performance.now() - started)
  }
  root.close()
  return percentiles(took)
}

/** Runs `writers` processes of this file in worker mode at once; the latency each measured. */
const runWriters = (mode: Mode, writers: number, base: string, ops: number): Promise<Array<Latency>> =>
  Promise.all(
    Array.from(
      { length: writers },
      (_, i) =>
        new Promise<Latency>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [
              ...process.execArgv,
              fileURLToPath(import.meta.url),
              "--worker",
              mode,
              join(base, `${mode}-${i}`),
              String(ops)
            ],
            { stdio: ["ignore", "pipe", "inherit"] }
          )
          let out = ""
          child.stdout.on("data", (d) => {
            out += d
          })
          child.on("exit", (code) =>
            code === 0 ? resolve(JSON.parse(out) as Latency) : reject(new Error(`disk writer exited with ${code}`))
          )
        })
    )
  )

const positive = (text: string | undefined, fallback: number, name: string): number => {
  const n = Number(text ?? fallback)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got "${text}"`)
  return n
}

export const run = async (args: ReadonlyArray<string>) => {
  const ops = positive(flagOf(args, "ops"), 1000, "ops")
  const writers = positive(flagOf(args, "writers"), 3, "writers")
  const reps = positive(flagOf(args, "reps"), 2, "reps")
  const base = mkdtempSync(join(flagOf(args, "dir") ?? tmpdir(), "tinykv-disk-"))
  try {
    const runs = []
    for (let rep = 1; rep <= reps; rep++) {
      const order: Array<Mode> = rep % 2 === 1 ? ["lmdb", "wal"] : ["wal", "lmdb"]
      for (const mode of order) {
        for (const n of writers === 1 ? [1] : [1, writers]) {
          process.stderr.write(`disk: rep ${rep}/${reps}, ${mode}, ${n} writer(s)\n`)
          runs.push({ rep, mode, writers: n, latency: await runWriters(mode, n, join(base, `${rep}-${n}`), ops) })
        }
      }
    }
    return { bench: "disk", dir: base, ops, writers, entryBytes: ENTRY_BYTES, runs }
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
}

// worker mode: `disk.ts --worker MODE DIR OPS` prints one writer's latency
if (process.argv[2] === "--worker") {
  const [mode, dir, ops] = process.argv.slice(3)
  process.stdout.write(JSON.stringify(measure(mode as Mode, dir!, Number(ops))))
}
