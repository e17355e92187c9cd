/** Runs the built `tinykv` command (bin/tinykv.mjs → dist/) as a user would. */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { freePort as freePortEffect, freePortRun as freePortRunEffect } from "../../src/process/ports.js"

const root = join(import.meta.dirname, "../..")
const bin = join(root, "bin/tinykv.mjs")

/** A TCP port free right now on 127.0.0.1. */
export const freePort = (): Promise<number> => Effect.runPromise(freePortEffect)

/** The first of `count` consecutive TCP ports all free right now on 127.0.0.1. */
export const freePortRun = (count: number): Promise<number> => Effect.runPromise(freePortRunEffect(count))

export const assertBuilt = () => {
  if (!existsSync(join(root, "dist/bundle/main.js"))) throw new Error("dist/ is missing: run `npm run build` first")
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const tinykv = (
  args: ReadonlyArray<string>,
  options: { input?: string | Uint8Array; timeoutMs?: number; env?: Record<string, string> } = {}
) =>
  new Promise<CliResult>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } })
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    // a deadline, not a floor: generous, since a loaded 2-core machine can take seconds to start node
    const timeoutMs = options.timeoutMs ?? 60_000
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, timeoutMs)
    child.on("close", (code) => {
      clearTimeout(timer)
      if (timedOut) stderr += `\n[test harness: killed after ${timeoutMs} ms without exiting]`
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? "")
  })

/** Starts a long-running `tinykv` process; resolves once its output matches `ready`. */
export const startTinykv = (args: ReadonlyArray<string>, ready: RegExp, timeoutMs = 20_000) =>
  new Promise<{ child: ChildProcess; output: () => string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs)
    const onData = (d: Buffer) => {
      out += d.toString()
      if (ready.test(out)) {
        clearTimeout(timer)
        resolve({ child, output: () => out })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ready:\n${out}`))
    })
  })

/** Sends `signal` and waits for the process to exit; resolves with its exit code. */
export const stop = (child: ChildProcess, signal: NodeJS.Signals = "SIGTERM") =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
    child.once("exit", (code) => resolve(code))
    child.kill(signal)
  })
