/** A scheduler and N stores as real `tinykv` processes on loopback, for crash tests. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ChildProcess } from "node:child_process"
import { freePort } from "../../bench/standalone.js"
import { startTinykv, stop } from "./cli.js"

export interface ProcessCluster {
  readonly scheduler: string
  readonly stores: ReadonlyArray<{ readonly id: number; readonly address: string }>
  /** Starts (or restarts) store `id` with the same data directory and flags. */
  readonly startStore: (id: number) => Promise<void>
  readonly startScheduler: () => Promise<void>
  /** `kill -9` of one store (no shutdown, no flush). */
  readonly killStore: (id: number) => Promise<void>
  readonly killAll: () => Promise<void>
  readonly output: (name: string) => string
  readonly cleanup: () => Promise<void>
}

const killHard = (p: ChildProcess | undefined) =>
  new Promise<void>((resolve) => {
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return resolve()
    p.once("exit", () => resolve())
    p.kill("SIGKILL")
  })

export const startProcessCluster = async (options: {
  readonly stores: number
  readonly extraStoreArgs?: ReadonlyArray<string>
}): Promise<ProcessCluster> => {
  const dir = mkdtempSync(join(tmpdir(), "tinykv-proc-"))
  const scheduler = `127.0.0.1:${await freePort()}`
  const stores = await Promise.all(
    Array.from({ length: options.stores }, async (_, i) => ({ id: i + 1, address: `127.0.0.1:${await freePort()}` }))
  )
  const procs = new Map<string, { child: ChildProcess; output: () => string }>()
  const ids = stores.map((s) => s.id).join(",")

  const startScheduler = async () => {
    procs.set(
      "scheduler",
      await startTinykv(["scheduler", "--addr", scheduler, "--data", join(dir, "scheduler")], /listening/)
    )
  }
  const startStore = async (id: number) => {
    const s = stores[id - 1]!
    const args = [
      "server",
      "--addr",
      s.address,
      "--scheduler",
      scheduler,
      "--data",
      join(dir, `store-${id}`),
      "--store-id",
      String(id),
      "--initial-stores",
      ids,
      ...(options.extraStoreArgs ?? [])
    ]
    procs.set(`store-${id}`, await startTinykv(args, /listening/))
  }
  await startScheduler()
  await Promise.all(stores.map((s) => startStore(s.id)))
  return {
    scheduler,
    stores,
    startStore,
    startScheduler,
    killStore: (id) => killHard(procs.get(`store-${id}`)?.child),
    killAll: async () => {
      await Promise.all([...procs.values()].map((p) => killHard(p.child)))
    },
    output: (name) => procs.get(name)?.output() ?? "",
    cleanup: async () => {
      await Promise.all([...procs.values()].map((p) => stop(p.child, "SIGKILL")))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
