/**
 * `npm run bench -- disk` (bench/disk.ts): both ways of a durable write, alone and with writers at once, each
 * writer's latency measured in a process of its own; bad counts are refused.
 */
import { spawnSync } from "node:child_process"
import { assert, it } from "vitest"

const bench = (...args: Array<string>) =>
  spawnSync("node_modules/.bin/tsx", ["bench/main.ts", "disk", ...args], { encoding: "utf8", timeout: 120_000 })

it("measures an LMDB commit and a log append, alone and two at once", () => {
  const r = bench("--ops", "20", "--writers", "2", "--reps", "1")
  assert.strictEqual(r.status, 0, r.stderr)
  const doc = JSON.parse(r.stdout) as {
    bench: string
    ops: number
    runs: Array<{ mode: string; writers: number; latency: Array<{ p50Ms: number; p90Ms: number; p99Ms: number }> }>
  }
  assert.strictEqual(doc.bench, "disk")
  assert.strictEqual(doc.ops, 20)
  assert.deepStrictEqual(
    doc.runs.map((x) => [x.mode, x.writers, x.latency.length]),
    [
      ["lmdb", 1, 1],
      ["lmdb", 2, 2],
      ["wal", 1, 1],
      ["wal", 2, 2]
    ]
  )
  for (const run of doc.runs) {
    for (const l of run.latency) {
      assert.isAbove(l.p50Ms, 0)
      assert.isAtMost(l.p50Ms, l.p90Ms)
      assert.isAtMost(l.p90Ms, l.p99Ms)
    }
  }
})

it("refuses a count that is not a positive integer", () => {
  const r = bench("--ops", "0")
  assert.notStrictEqual(r.status, 0)
  assert.include(r.stderr, "--ops")
})
