/**
 * The bank workload (issue #5): `npm run bench -- bank [--clients 8] [--seconds 30] [--accounts 100]`.
 *
 * A standalone store runs as a child process (lmdb, fsync per commit). `accounts` accounts start
 * with 1000 each; `clients` closed-loop clients (one connection each, Promise facade) move a random
 * amount between two random accounts in one transaction, retrying conflicts with a fresh
 * transaction; an auditor on its own connection reads every balance in one read-only transaction
 * every 100 ms. Snapshot isolation means every audit, and the end state, sees exactly the initial
 * total; if one does not, the run throws (a non-zero exit) after printing what it saw.
 */
import { progressBar } from "../src/cli/progress.js"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect, type KvConnection } from "../src/client/promise.js"
import { isRetryable } from "../src/client/txnErrors.js"
import { fromUtf8 } from "../src/protocol/bytes.js"
import { freePort, startProcess } from "./standalone.js"
import { rng } from "./workloads.js"

const INITIAL_BALANCE = 1000
const MAX_AMOUNT = 100
const AUDIT_EVERY_MS = 100
/** Accounts written per loading transaction, to keep each prewrite request small. */
const LOAD_BATCH = 500

const account = (i: number) => `acct-${String(i).padStart(6, "0")}`
const ACCOUNTS_END = "acct." // "." sorts right after "-": every account key is below it

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

export const run = async (args: ReadonlyArray<string>) => {
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`)
    const n = i >= 0 ? Number(args[i + 1]) : fallback
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`)
    return n
  }
  const clients = flag("clients", 8)
  const seconds = flag("seconds", 30)
  const accounts = flag("accounts", 100)
  const seed = flag("seed", 42)
  if (accounts < 2) throw new Error("--accounts must be at least 2")
  const total = accounts * INITIAL_BALANCE

  const dir = mkdtempSync(join(tmpdir(), "tinykv-bank-"))
  const address = `127.0.0.1:${await freePort()}`
  const server = await startProcess(["server", "--standalone", "--addr", address, "--data", dir], /listening/)
  const conns: Array<KvConnection> = []
  try {
    for (let i = 0; i <= clients; i++) conns.push(await connect({ store: address, timeout: "30 seconds" }))
    const auditConn = conns[clients]!

    for (let from = 0; from < accounts; from += LOAD_BATCH) {
      await auditConn.transact(async (txn) => {
        for (let i = from; i < Math.min(accounts, from + LOAD_BATCH); i++) {
          await txn.set(account(i), String(INITIAL_BALANCE))
        }
      })
    }

    let committed = 0
    let aborted = 0
    let insufficientFunds = 0
    let audits = 0
    const badAudits: Array<{ startTs: string; accounts: number; total: number }> = []
    const latencies: Array<number> = []
    const abortsByTag: Record<string, number> = {}

    /** Sums every balance in one read-only transaction; false if the snapshot's total is off. */
    const audit = async (kv: KvConnection): Promise<boolean> => {
      for (;;) {
        const txn = await kv.begin()
        try {
          const rows = await txn.scan("acct-", { end: ACCOUNTS_END, limit: accounts + 1 })
          await txn.commit()
          const sum = rows.reduce((s, r) => s + Number(fromUtf8(r.value)), 0)
          audits++
          if (rows.length === accounts && sum === total) return true
          badAudits.push({ startTs: String(txn.startTs), accounts: rows.length, total: sum })
          return false
        } catch (e) {
          // a read-only transaction never conflicts; it can only give up waiting on a lock
          await txn.rollback()
          if (!isRetryable(e)) throw e
        }
      }
    }

    const started = Date.now()
    const deadline = started + seconds * 1000

    const transfers = async (kv: KvConnection, random: () => number) => {
      while (Date.now() < deadline) {
        const from = Math.floor(random() * accounts)
        const to = (from + 1 + Math.floor(random() * (accounts - 1))) % accounts
        const amount = 1 + Math.floor(random() * MAX_AMOUNT)
        const t0 = performance.now()
        for (let attempt = 0; Date.now() < deadline; attempt++) {
          const txn = await kv.begin()
          try {
            const a = Number(await txn.getString(account(from)))
            const b = Number(await txn.getString(account(to)))
            if (a < amount) {
              await txn.rollback()
              insufficientFunds++
              break
            }
            await txn.set(account(from), String(a - amount))
            await txn.set(account(to), String(b + amount))
            await txn.commit()
            committed++
            latencies.push(performance.now() - t0)
            break
          } catch (e) {
            await txn.rollback()
            if (!isRetryable(e)) throw e
            aborted++
            abortsByTag[e._tag] = (abortsByTag[e._tag] ?? 0) + 1
            // jittered exponential backoff, as `transact` does, so colliding clients drift apart
            const d = Math.min(100, 2 * 2 ** Math.min(attempt, 30))
            await sleep(d / 2 + Math.random() * (d / 2))
          }
        }
      }
    }

    const auditor = async () => {
      while (Date.now() < deadline) {
        await audit(auditConn)
        await sleep(AUDIT_EVERY_MS)
      }
    }

    // a time-based run: the bar follows the seconds, with the transfers so far
    const bar = progressBar({
      total: seconds,
      format: "bank {bar} {value}/{total} s | {committed} committed | {aborted} aborted",
      payload: { committed: 0, aborted: 0 }
    })
    const ticker = setInterval(
      () => bar.update(Math.min(seconds, Math.round((Date.now() - started) / 1000)), { committed, aborted }),
      250
    )
    await Promise.all([...conns.slice(0, clients).map((kv, i) => transfers(kv, rng(seed * 1009 + i))), auditor()])
    clearInterval(ticker)
    bar.stop()
    const elapsedSec = (Date.now() - started) / 1000
    const finalOk = await audit(auditConn)
    const totalOk = finalOk && badAudits.length === 0
    latencies.sort((x, y) => x - y)
    const result = {
      bench: "bank",
      system: "tinykv-ts standalone (lmdb, fsync per commit), Promise client over TCP",
      clients,
      seconds,
      accounts,
      committed,
      aborted,
      audits,
      totalOk,
      committedPerSec: Math.round((committed / elapsedSec) * 10) / 10,
      abortedByError: abortsByTag,
      insufficientFunds,
      latencyMs: {
        p50: Math.round(percentile(latencies, 50) * 10) / 10,
        p99: Math.round(percentile(latencies, 99) * 10) / 10,
        max: Math.round((latencies[latencies.length - 1] ?? 0) * 10) / 10
      }
    }
    if (!totalOk) {
      process.stderr.write(`${JSON.stringify({ ...result, badAudits: badAudits.slice(0, 10) })}\n`)
      throw new Error(`the bank total changed: ${badAudits.length} audits saw a total other than ${total}`)
    }
    return result
  } finally {
    await Promise.all(conns.map((c) => c.close()))
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
