/**
 * W1/W2/W3 against a standalone store started as a child process on loopback, driven through the
 * Promise client (64 connections, one per client). `npm run bench -- standalone [--workloads W1,W3]`
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { connect } from "../src/client/promise.js"
import { freePort as freePortEffect } from "../src/process/ports.js"
import { type KvConn, runWorkload, type WorkloadId, type WorkloadResult } from "./workloads.js"

/** A free port on loopback (shared with the process tests, which import it from here). */
export const freePort = (): Promise<number> => Effect.runPromise(freePortEffect)

/** Starts `tinykv <args>` from the built dist/ and resolves once it printed `ready`. */
export const startProcess = (args: ReadonlyArray<string>, ready: RegExp): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "../bin/tinykv.mjs"), ...args], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const onData = (d: Buffer) => {
      out += d.toString()
      if (ready.test(out)) resolve(child)
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`tinykv ${args.join(" ")} exited with ${code}:\n${out}`)))
  })

export const openConns = async (address: string, n: number): Promise<Array<KvConn>> =>
  Promise.all(
    Array.from({ length: n }, async () => {
      const kv = await connect({ store: address, timeout: "30 seconds" })
      await kv.get("warmup-nonexistent")
      return { put: (k: string, v: Uint8Array) => kv.put(k, v), get: (k: string) => kv.get(k), close: kv.close }
    })
  )

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const workloads = (flag("workloads") ?? "W1,W2,W3").split(",") as Array<WorkloadId>
  const seed = Number(flag("seed") ?? 42)
  const dir = mkdtempSync(join(tmpdir(), "tinykv-bench-"))
  const port = await freePort()
  const address = `127.0.0.1:${port}`
  const server = await startProcess(["server", "--standalone", "--addr", address, "--data", dir], /listening/)
  const results: Array<WorkloadResult & { system: string }> = []
  try {
    const conns = await openConns(address, 64)
    for (const w of workloads) {
      const r = await runWorkload(w, conns, { seed })
      results.push({ system: "tinykv-ts standalone (lmdb, fsync per commit)", ...r })
      process.stderr.write(`${JSON.stringify(results[results.length - 1])}\n`)
    }
    await Promise.all(conns.map((c) => c.close()))
  } finally {
    server.kill("SIGTERM")
    rmSync(dir, { recursive: true, force: true })
  }
  return { bench: "standalone", seed, results }
}
