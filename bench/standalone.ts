/**
 * W1/W2/W3 against a standalone store started as a child process on loopback, driven through the
 * Promise client (64 connections, one per client). `npm run bench -- standalone [--workloads W1,W3]`
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Exit, Scope } from "effect"
import { connect } from "../src/client/promise.js"
import { freePort as freePortEffect, startChild } from "../src/process/index.js"
import { type KvConn, runWorkload, type WorkloadId, type WorkloadResult } from "./workloads.js"

/** A free port on loopback (shared with the process tests, which import it from here). */
export const freePort = (): Promise<number> => Effect.runPromise(freePortEffect)

/**
 * Starts `tinykv <args>` from the built dist/ the way the local-cluster module starts its children, and
 * resolves once it printed `ready`; `stop` ends it (SIGTERM, SIGKILL after 5 s) and waits for it.
 */
export const startProcess = async (
  args: ReadonlyArray<string>,
  ready: RegExp
): Promise<{ readonly stop: () => Promise<void> }> => {
  const scope = Effect.runSync(Scope.make())
  const stop = () => Effect.runPromise(Scope.close(scope, Exit.void))
  const started = startChild({
    name: `tinykv ${args.join(" ")}`,
    args,
    ready,
    readyTimeout: "60 seconds",
    keepOutput: false,
    stopGrace: "5 seconds"
  })
  try {
    await Effect.runPromise(
      started.pipe(
        Scope.extend(scope),
        Effect.provide(NodeContext.layer),
        Effect.mapError((e) => new Error(`${e.message}:\n${e.output}`))
      )
    )
  } catch (e) {
    await stop()
    throw e
  }
  return { stop }
}

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
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return { bench: "standalone", seed, results }
}
