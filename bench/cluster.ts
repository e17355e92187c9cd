/**
 * W1/W2/W3 against a 3-replica cluster: a scheduler and 3 stores as child processes on loopback
 * (what `tinykv playground` runs), driven through the cluster client (64 connections, one per client).
 * `npm run bench -- cluster [--workloads W1,W2,W3] [--seed 42]`
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "../src/client/promise.js"
import { freePort, startProcess } from "./standalone.js"
import { type KvConn, runWorkload, type WorkloadId, type WorkloadResult } from "./workloads.js"

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const workloads = (flag("workloads") ?? "W1,W2,W3").split(",") as Array<WorkloadId>
  const seed = Number(flag("seed") ?? 42)
  const dir = mkdtempSync(join(tmpdir(), "tinykv-bench-cluster-"))
  const scheduler = `127.0.0.1:${await freePort()}`
  const children = [
    await startProcess(["scheduler", "--addr", scheduler, "--data", join(dir, "scheduler")], /listening/)
  ]
  const results: Array<WorkloadResult & { system: string }> = []
  try {
    for (const id of [1, 2, 3]) {
      const addr = `127.0.0.1:${await freePort()}`
      children.push(
        await startProcess(
          [
            "server",
            "--addr",
            addr,
            "--scheduler",
            scheduler,
            "--data",
            join(dir, `store-${id}`),
            "--store-id",
            String(id),
            "--initial-stores",
            "1,2,3"
          ],
          /listening/
        )
      )
    }
    const conns: Array<KvConn> = await Promise.all(
      Array.from({ length: 64 }, async () => {
        const kv = await connect({ scheduler, deadline: "30 seconds" })
        // the first request waits for the election and warms the region cache
        for (let i = 0; ; i++) {
          try {
            await kv.get("warmup-nonexistent")
            break
          } catch (e) {
            if (i > 100) throw e
            await new Promise((r) => setTimeout(r, 200))
          }
        }
        return { put: (k: string, v: Uint8Array) => kv.put(k, v), get: (k: string) => kv.get(k), close: kv.close }
      })
    )
    for (const w of workloads) {
      const r = await runWorkload(w, conns, { seed })
      results.push({ system: "tinykv-ts, 3 stores (lmdb, fsync per round), reads through the Raft log", ...r })
      process.stderr.write(`${JSON.stringify(results[results.length - 1])}\n`)
    }
    await Promise.all(conns.map((c) => c.close()))
  } finally {
    for (const c of children) c.kill("SIGTERM")
    await new Promise((r) => setTimeout(r, 500))
    rmSync(dir, { recursive: true, force: true })
  }
  return { bench: "cluster", seed, results }
}
