/**
 * The benchmarks' warm-up (`--warmup N`, bench/cluster.ts): N untimed puts of keys no workload reads, made before
 * the first workload on the same connections, so the timed workloads (and W2's reads of W1's keys) are the same
 * with or without it.
 */
import { assert, it } from "vitest"
import { parseWarmup, runWorkloadsOn } from "../../bench/cluster.js"
import type { KvConn } from "../../bench/workloads.js"

/** `count` connections over one in-memory map, recording every put in order. */
const memoryConns = (count: number) => {
  const data = new Map<string, Uint8Array>()
  const puts: Array<string> = []
  const conn: KvConn = {
    put: async (k, v) => {
      puts.push(k)
      data.set(k, v)
    },
    get: async (k) => data.get(k),
    close: async () => {}
  }
  return { data, puts, conns: Array.from({ length: count }, () => conn) }
}

it("makes the warm-up's puts first, on keys of their own, and times only the workloads", async () => {
  const { data, puts, conns } = memoryConns(4)
  const results = await runWorkloadsOn(conns, ["W1", "W2"], 42, {
    ops: { W1: 300, W2: 200 },
    system: "memory",
    warmupOps: 50
  })
  const warm = puts.filter((k) => k.startsWith("warmup"))
  assert.strictEqual(warm.length, 50)
  assert.deepStrictEqual(new Set(puts.slice(0, 50)), new Set(warm), "the warm-up comes before W1")
  assert.strictEqual(data.get("warmup00000049")?.length, 128)
  assert.deepStrictEqual(
    results.map((r) => [r.workload, r.ops, r.ok, r.errors, r.misses]),
    [
      ["W1", 300, 300, 0, 0],
      ["W2", 200, 200, 0, 0]
    ],
    "W2 reads only keys W1 wrote"
  )
})

it("without a warm-up puts nothing of its own; --warmup takes a count of 0 or more", async () => {
  const { puts, conns } = memoryConns(2)
  await runWorkloadsOn(conns, ["W1"], 42, { ops: { W1: 20 }, system: "memory" })
  assert.strictEqual(puts.filter((k) => k.startsWith("warmup")).length, 0)
  assert.strictEqual(puts.length, 20)
  assert.strictEqual(parseWarmup(undefined, 10_000), 10_000)
  assert.strictEqual(parseWarmup("0", 10_000), 0)
  for (const bad of ["-1", "1.5", "many"]) assert.throws(() => parseWarmup(bad, 0), /--warmup/)
})
