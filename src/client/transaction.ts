/**
 * Client-side Percolator transactions over a `TxnBackend` (TinyKV project 4; TiKV client-go's
 * optimistic transactions, simplified).
 *
 * Snapshot isolation: every read sees the data committed before `startTs` plus this transaction's
 * own buffered writes; writes are buffered until `commit`, which runs two-phase commit:
 *
 * 1. prewrite — lock every key and write its value at `startTs`; the region holding the primary (the
 *    smallest key) first, then the other regions concurrently. A write committed after `startTs`
 *    fails the transaction with `WriteConflict`; what was prewritten is rolled back.
 * 2. commit — take `commitTs` from the TSO and commit the primary: that single-key write IS the
 *    commit point. Then commit the secondaries; any left behind are finished by whoever meets them
 *    (`txnLocks.ts`), since their locks point at the committed primary.
 *
 * Readers and prewrites that meet another transaction's lock resolve it or wait, with bounded
 * backoff, and then give up with `KeyIsLocked`.
 */
import { Data, Duration, Effect, Either, Option, Schedule } from "effect"
import { compareBytes, toLatin1 } from "../protocol/bytes.js"
import type { KvError } from "../protocol/errorpb.js"
import type { LockInfo, Mutation } from "../protocol/kvrpc.js"
import type { Timestamp } from "../protocol/ids.js"
import { jitteredBackoff, transactSchedule } from "./backoff.js"
import { successor } from "./bytes.js"
import { scanPages } from "./scanPages.js"
import type { TxnBackend } from "./txnBackend.js"
import { isRetryable, KeyIsLocked, type TxnFailure, TxnAborted, WriteConflict } from "./txnErrors.js"
import { resolveLocks } from "./txnLocks.js"

export { backendFromHandlers, type TxnBackend } from "./txnBackend.js"
export { isRetryable, KeyIsLocked, type TxnFailure, TxnAborted, WriteConflict } from "./txnErrors.js"

/** Everything a transaction step can fail with, over a backend failing with `E`. */
export type TxnError<E = KvError> = TxnFailure | E

export interface TransactionOptions {
  /** How long (physical ms) this transaction's locks hold others off before they may roll it back. */
  readonly lockTtlMs?: number
  /** Attempts of a read or prewrite that meets locks before failing with `KeyIsLocked`. */
  readonly lockRetries?: number
  /** First backoff while a live lock is in the way; doubles each attempt up to `backoffMaxMs`. */
  readonly backoffBaseMs?: number
  readonly backoffMaxMs?: number
}

export const defaultTransactionOptions: Required<TransactionOptions> = {
  lockTtlMs: 3000,
  lockRetries: 20,
  backoffBaseMs: 1,
  backoffMaxMs: 100
}

export interface KvEntry {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

export interface Transaction<E = KvError> {
  readonly startTs: Timestamp
  /** The value at `startTs`, or this transaction's own buffered write. */
  readonly get: (key: Uint8Array) => Effect.Effect<Option.Option<Uint8Array>, TxnError<E>>
  /** Up to `limit` pairs with key >= `startKey`, ascending, as `get` would see them. */
  readonly scan: (startKey: Uint8Array, limit: number) => Effect.Effect<ReadonlyArray<KvEntry>, TxnError<E>>
  /** Buffers a write; nothing reaches the store before `commit`. */
  readonly set: (key: Uint8Array, value: Uint8Array) => Effect.Effect<void, TxnAborted>
  readonly delete: (key: Uint8Array) => Effect.Effect<void, TxnAborted>
  /**
   * Two-phase commit; the commit timestamp, or none for a transaction that wrote nothing. A
   * `KvError` while committing the primary leaves the outcome unknown (the commit may have landed).
   */
  readonly commit: Effect.Effect<Option.Option<Timestamp>, TxnError<E>>
  /** Discards the buffered writes (nothing is on the store before commit). Idempotent. */
  readonly rollback: Effect.Effect<void>
  /** Whether `commit` or `rollback` already ran (then the transaction takes no more operations). */
  readonly isFinished: () => boolean
}

/** One try of an operation that may meet locks: its result, or the locks in its way. */
type Attempt<A, E> = Effect.Effect<Either.Either<A, ReadonlyArray<LockInfo>>, TxnError<E>>

/** An attempt met locks; `clear` when resolving them left none of a still-running transaction. */
class LocksInTheWay extends Data.TaggedError("LocksInTheWay")<{
  readonly locks: ReadonlyArray<LockInfo>
  readonly clear: boolean
}> {}

/**
 * Between attempts that met locks: at once when the locks were all resolved, else the jittered
 * backoff (which counts every attempt); `lockRetries` retries at most, and none after other failures.
 */
const lockSchedule = (opts: Required<TransactionOptions>) =>
  Schedule.intersect(
    jitteredBackoff(Duration.millis(opts.backoffBaseMs), Duration.millis(opts.backoffMaxMs)),
    Schedule.recurs(opts.lockRetries)
  ).pipe(
    Schedule.passthrough,
    Schedule.whileInput((e: unknown) => e instanceof LocksInTheWay),
    Schedule.modifyDelay((e, delay) => (e instanceof LocksInTheWay && e.clear ? Duration.zero : delay))
  )

/** Starts a transaction at a fresh TSO timestamp. */
export const begin = <E = KvError>(
  backend: TxnBackend<E>,
  options: TransactionOptions = {}
): Effect.Effect<Transaction<E>, E> =>
  Effect.map(backend.tso, (startTs) => makeTransaction(backend, startTs, { ...defaultTransactionOptions, ...options }))

const makeTransaction = <E>(
  backend: TxnBackend<E>,
  startTs: Timestamp,
  opts: Required<TransactionOptions>
): Transaction<E> => {
  /** Buffered writes by latin1 key; `undefined` value = delete. */
  const buffer = new Map<string, { readonly key: Uint8Array; readonly value: Uint8Array | undefined }>()
  let finished = false

  const finishedError = () => new TxnAborted({ startTs, reason: "transaction already committed or rolled back" })
  const active = <A, E>(f: () => Effect.Effect<A, E>): Effect.Effect<A, E | TxnAborted> =>
    Effect.suspend((): Effect.Effect<A, E | TxnAborted> => (finished ? Effect.fail(finishedError()) : f()))

  /** Runs `attempt` until it meets no lock, resolving the locks it meets and backing off from live ones. */
  const pastLocks = <A>(attempt: Attempt<A, E>): Effect.Effect<A, TxnError<E>> =>
    Effect.flatMap(attempt, (r) =>
      Either.isRight(r)
        ? Effect.succeed(r.right)
        : Effect.flatMap(resolveLocks(backend, r.left), (clear) => new LocksInTheWay({ locks: r.left, clear }))
    ).pipe(
      Effect.retry(lockSchedule(opts)),
      Effect.catchIf(
        (e): e is LocksInTheWay => e instanceof LocksInTheWay,
        (met) => Effect.fail(new KeyIsLocked({ lock: met.locks[0]! }))
      )
    )

  // --- reads ---

  const get = (key: Uint8Array) =>
    active(() => {
      const own = buffer.get(toLatin1(key))
      if (own !== undefined) return Effect.succeed(Option.fromNullable(own.value))
      return pastLocks(
        Effect.flatMap(backend.KvGet({ key, version: startTs }), (resp): Attempt<Option.Option<Uint8Array>, E> => {
          if (resp.error?.locked !== undefined) return Effect.succeed(Either.left([resp.error.locked]))
          if (resp.error !== undefined) {
            return Effect.fail(
              new TxnAborted({ startTs, reason: resp.error.abort ?? resp.error.retryable ?? "get failed" })
            )
          }
          return Effect.succeed(
            Either.right(resp.notFound ? Option.none() : Option.some(resp.value ?? new Uint8Array(0)))
          )
        })
      )
    })

  /** One page of committed pairs at `startTs`, past any locks in it. */
  const scanPage = (startKey: Uint8Array, limit: number) =>
    pastLocks(
      Effect.map(backend.KvScan({ startKey, limit, version: startTs }), (resp) => {
        const locks = resp.pairs.flatMap((p) => (p.error?.locked !== undefined ? [p.error.locked] : []))
        return locks.length > 0 ? Either.left(locks) : Either.right(resp.pairs)
      })
    )

  const scan = (startKey: Uint8Array, limit: number) =>
    active(() =>
      Effect.gen(function* () {
        if (limit <= 0) return []
        const own = [...buffer.values()].filter((b) => compareBytes(b.key, startKey) >= 0)
        // each buffered delete may hide one stored pair, so fetch that many more: the first
        // `limit` of the merge are then all at or below the last stored key fetched
        const need = limit + own.filter((b) => b.value === undefined).length
        // pages may come back short (a byte budget), so only an empty page means the end
        const stored = yield* scanPages({ start: startKey, end: undefined, limit: need }, (from, want) =>
          Effect.map(scanPage(from, want), (items) => {
            const last = items[items.length - 1]
            return { items, next: last === undefined ? undefined : successor(last.key) }
          })
        )
        const merged = new Map<string, { key: Uint8Array; value: Uint8Array | undefined }>()
        for (const p of stored) merged.set(toLatin1(p.key), p)
        for (const b of own) merged.set(toLatin1(b.key), b)
        const out: Array<KvEntry> = []
        for (const e of merged.values()) if (e.value !== undefined) out.push({ key: e.key, value: e.value })
        return out.sort((x, y) => compareBytes(x.key, y.key)).slice(0, limit)
      })
    )

  // --- buffered writes ---

  const set = (key: Uint8Array, value: Uint8Array) =>
    active(() => Effect.sync(() => void buffer.set(toLatin1(key), { key: key.slice(), value: value.slice() })))

  const del = (key: Uint8Array) =>
    active(() => Effect.sync(() => void buffer.set(toLatin1(key), { key: key.slice(), value: undefined })))

  // --- two-phase commit ---

  const mutationOf = (key: Uint8Array): Mutation => {
    const v = buffer.get(toLatin1(key))?.value
    return v === undefined ? { op: "Del", key, value: new Uint8Array(0) } : { op: "Put", key, value: v }
  }

  const prewriteGroup = (keys: ReadonlyArray<Uint8Array>, primary: Uint8Array) =>
    pastLocks(
      Effect.flatMap(
        backend.KvPrewrite({
          mutations: keys.map(mutationOf),
          primaryLock: primary,
          startVersion: startTs,
          lockTtl: opts.lockTtlMs
        }),
        (resp): Attempt<void, E> => {
          const locks: Array<LockInfo> = []
          for (const e of resp.errors) {
            if (e.conflict !== undefined) {
              const { key, conflictTs } = e.conflict
              return Effect.fail(new WriteConflict({ key, startTs, conflictTs, primary }))
            }
            if (e.locked !== undefined) locks.push(e.locked)
            else return Effect.fail(new TxnAborted({ startTs, reason: e.abort ?? e.retryable ?? "prewrite failed" }))
          }
          return Effect.succeed(locks.length > 0 ? Either.left(locks) : Either.right(undefined))
        }
      )
    )

  /** Best-effort rollback; failures leave locks that expire and are rolled back by others. */
  const rollbackGroups = (groups: ReadonlyArray<ReadonlyArray<Uint8Array>>) =>
    Effect.ignore(
      Effect.forEach(groups, (keys) => backend.KvBatchRollback({ startVersion: startTs, keys }), {
        concurrency: "unbounded",
        discard: true
      })
    )

  const commit: Effect.Effect<Option.Option<Timestamp>, TxnError<E>> = active(() =>
    Effect.gen(function* () {
      finished = true
      const keys = [...buffer.values()].map((b) => b.key).sort(compareBytes)
      const primary = keys[0]
      if (primary === undefined) return Option.none()
      const groups = yield* backend.groupByRegion(keys)
      const primaryGroup = groups.find((g) => g.some((k) => compareBytes(k, primary) === 0)) ?? [primary]
      const others = groups.filter((g) => g !== primaryGroup)

      // Groups that may hold our locks: prewritten, or failed without an answer. A prewrite that
      // answered with key errors wrote nothing (prewrite is all-or-nothing per request).
      const touched: Array<ReadonlyArray<Uint8Array>> = []
      const prewrite = (g: ReadonlyArray<Uint8Array>) =>
        prewriteGroup(g, primary).pipe(
          Effect.tap(() => Effect.sync(() => touched.push(g))),
          Effect.tapError((e) => Effect.sync(() => isRetryable(e) || touched.push(g))),
          // interrupted because another group failed: the request may have landed
          Effect.onInterrupt(() => Effect.sync(() => touched.push(g)))
        )
      yield* Effect.zipRight(
        prewrite(primaryGroup),
        Effect.forEach(others, prewrite, { concurrency: "unbounded", discard: true })
      ).pipe(Effect.onError(() => Effect.suspend(() => rollbackGroups(touched))))

      const commitTs = yield* Effect.onError(backend.tso, () => rollbackGroups(groups))
      const resp = yield* backend.KvCommit({ startVersion: startTs, keys: [primary], commitVersion: commitTs })
      if (resp.error !== undefined) {
        // the primary refused: this transaction was rolled back by someone who found it expired
        yield* rollbackGroups(groups)
        return yield* new TxnAborted({
          startTs,
          reason: resp.error.abort ?? resp.error.retryable ?? "commit of the primary key failed"
        })
      }
      // Committed. Secondaries are best effort: a leftover lock points at the committed primary.
      const secondaries = groups.map((g) => g.filter((k) => compareBytes(k, primary) !== 0)).filter((g) => g.length > 0)
      yield* Effect.ignore(
        Effect.forEach(
          secondaries,
          (g) => backend.KvCommit({ startVersion: startTs, keys: g, commitVersion: commitTs }),
          { concurrency: "unbounded", discard: true }
        )
      )
      return Option.some(commitTs)
    })
  )

  const rollback = Effect.sync(() => {
    finished = true
    buffer.clear()
  })

  return { startTs, get, scan, set, delete: del, commit, rollback, isFinished: () => finished }
}

export interface TransactOptions extends TransactionOptions {
  /** Fresh attempts after a `WriteConflict`, `KeyIsLocked` or `TxnAborted` (default 10). */
  readonly retries?: number
}

/**
 * Runs `body` in a transaction and commits it, starting over with a new timestamp when the attempt
 * fails with a retryable `TxnFailure` (after a jittered backoff). Any other failure of `body`
 * rolls the transaction back and is returned as is.
 */
export const transact = <A, E, R, BE = KvError>(
  backend: TxnBackend<BE>,
  body: (txn: Transaction<BE>) => Effect.Effect<A, E, R>,
  options: TransactOptions = {}
): Effect.Effect<A, E | TxnError<BE>, R> => {
  const attempt: Effect.Effect<A, E | TxnError<BE>, R> = Effect.flatMap(begin(backend, options), (txn) =>
    body(txn).pipe(
      // the body may have committed or rolled back itself: committing again would fail and be retried
      Effect.zipLeft(Effect.suspend(() => (txn.isFinished() ? Effect.void : txn.commit))),
      Effect.onError(() => txn.rollback)
    )
  )
  return Effect.retry(attempt, { schedule: transactSchedule(options.retries ?? 10), while: isRetryable })
}
