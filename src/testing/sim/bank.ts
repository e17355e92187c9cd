/**
 * The simulator's bank: transactional transfers between accounts through the real `TinyKvClient`
 * (Percolator over the cluster), and an auditor reading every account in one transaction. Snapshot
 * isolation means every snapshot the auditor completes holds the same total, whatever faults hit the
 * transfers; so does the end state.
 *
 * The accounts live in the transactional key space, apart from the raw keys of the linearizability
 * workload, and run at the same time as it. A transfer that fails (a timeout mid-commit, say) may or may
 * not have committed; either way it moved money atomically or not at all, so it changes nothing checked.
 */
import { Effect, Option } from "effect"
import { TinyKvClient } from "../../client/TinyKvClient.js"
import { fromUtf8, utf8 } from "../../protocol/bytes.js"
import type { SimRandom } from "./random.js"

export interface BankOptions {
  readonly accounts: number
  /** Fibers doing transfers, one after another. */
  readonly clients: number
  readonly transfersPerClient: number
  /** Audits while the transfers run (one more runs at the end). */
  readonly audits: number
  /** A client's pause between transactions, at most (virtual time). */
  readonly thinkMs: number
}

export const INITIAL_BALANCE = 100

export interface BankLog {
  committed: number
  failed: number
  /** Snapshots the auditor completed (each was checked). */
  audits: number
  /** What the auditor saw that broke the invariant (the first few). */
  readonly violations: Array<string>
}

export const emptyBankLog = (): BankLog => ({ committed: 0, failed: 0, audits: 0, violations: [] })

const account = (i: number) => utf8(`acct-${String(i).padStart(3, "0")}`)
const PREFIX = utf8("acct-")

/** Creates every account with the initial balance, in one transaction (before any fault). */
export const openAccounts = (options: BankOptions): Effect.Effect<void, unknown, TinyKvClient> =>
  Effect.flatMap(TinyKvClient, (kv) =>
    kv.transact(
      (t) =>
        Effect.forEach(
          Array.from({ length: options.accounts }, (_, i) => i),
          (i) => t.set(account(i), utf8(String(INITIAL_BALANCE))),
          { discard: true }
        ),
      { retries: 20 }
    )
  )

/**
 * One audit: every account read in one transaction; the snapshot must hold every account and the total.
 * Returns whether a snapshot was completed (a failed read tells nothing).
 */
export const audit = (options: BankOptions, log: BankLog, when: string): Effect.Effect<boolean, never, TinyKvClient> =>
  Effect.flatMap(TinyKvClient, (kv) =>
    kv
      .transact(
        (t) =>
          Effect.map(t.scan(PREFIX, options.accounts + 1), (rows) => {
            log.audits++
            const total = rows.reduce((s, r) => s + Number(fromUtf8(r.value)), 0)
            if (rows.length !== options.accounts || total !== options.accounts * INITIAL_BALANCE) {
              if (log.violations.length < 5) {
                log.violations.push(
                  `${when} audit at ts ${t.startTs}: ${rows.length} accounts, total ${total} (expected ${options.accounts} and ${options.accounts * INITIAL_BALANCE}): ${rows.map((r) => fromUtf8(r.value)).join(",")}`
                )
              }
            }
          }),
        { retries: 5 }
      )
      .pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false)
      )
  )

/** One transfer of a random amount between two random accounts, when the payer can afford it. */
const transfer = (kv: TinyKvClient["Type"], options: BankOptions, random: SimRandom) => {
  const from = random.int(options.accounts)
  const to = (from + 1 + random.int(options.accounts - 1)) % options.accounts
  const amount = 1 + random.int(30)
  return kv.transact(
    (t) =>
      Effect.gen(function* () {
        const a = Number(fromUtf8(Option.getOrElse(yield* t.get(account(from)), () => utf8("0"))))
        const b = Number(fromUtf8(Option.getOrElse(yield* t.get(account(to)), () => utf8("0"))))
        if (a < amount) return
        yield* t.set(account(from), utf8(String(a - amount)))
        yield* t.set(account(to), utf8(String(b + amount)))
      }),
    { retries: 5 }
  )
}

/** Runs the transfer clients and the auditor to completion. */
export const runBank = (
  options: BankOptions,
  random: SimRandom,
  log: BankLog
): Effect.Effect<void, never, TinyKvClient> =>
  Effect.flatMap(TinyKvClient, (kv) => {
    const think = (own: SimRandom) => Effect.sleep(`${own.int(options.thinkMs + 1)} millis`)
    const transfers = Array.from({ length: options.clients }, (_, c) => {
      const own = random.fork(c + 1)
      return Effect.forEach(
        Array.from({ length: options.transfersPerClient }, (_, n) => n),
        () =>
          Effect.zipRight(
            think(own),
            transfer(kv, options, own).pipe(
              Effect.matchEffect({
                onSuccess: () => Effect.sync(() => void log.committed++),
                onFailure: () => Effect.sync(() => void log.failed++)
              })
            )
          ),
        { discard: true }
      )
    })
    const auditorRandom = random.fork(0)
    const auditor = Effect.forEach(
      Array.from({ length: options.audits }, (_, n) => n),
      (n) => Effect.zipRight(think(auditorRandom), audit(options, log, `audit ${n}`)),
      { discard: true }
    )
    return Effect.all([...transfers, auditor], { concurrency: "unbounded", discard: true })
  })
