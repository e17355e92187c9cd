/**
 * The transactional RPC handlers: the effectful shell around the pure commands (`commands.ts`).
 *
 * A handler only (1) latches the keys a writing command touches, (2) opens a snapshot reader for
 * the request's region, (3) runs the pure command, (4) writes its modifications in one batch when
 * there are any. Region and storage errors from the reader or the write stay in the error channel;
 * per-key transactional errors travel in the response body, as in TinyKV. The latch is held from
 * before the read until after the write, so two commands on one key never decide from the same
 * stale snapshot.
 */
import { Effect } from "effect"
import { toHex, toLatin1 } from "../protocol/bytes.js"
import { type InvalidArgument, type KvError, StorageError } from "../protocol/errorpb.js"
import type { Context, ResolveLockResponse } from "../protocol/kvrpc.js"
import type { StoreCalls, TxnMethod } from "../protocol/rpcCalls.js"
import { type KvReader, KvStorage, type Modify } from "../services/KvStorage.js"
import { CF_LOCK } from "../services/Storage.js"
import {
  type CommandResult,
  kvBatchRollback,
  kvCheckTxnStatus,
  kvCommit,
  kvGet,
  kvPrewrite,
  kvResolveLock,
  kvScan,
  resolveLockKeys
} from "./commands.js"
import { MvccCorruption } from "./corruption.js"
import { type Latches, makeLatches } from "./latches.js"
import { decodeUserKey } from "./mvccKey.js"
import {
  validateBatchRollback,
  validateCheckTxnStatus,
  validateCommit,
  validateGet,
  validatePrewrite,
  validateResolveLock,
  validateScan
} from "./validate.js"

/** The Kv* members of `TinyKvRpcs`, served in-process. */
export type TxnHandlers = StoreCalls<TxnMethod>

export interface TxnHandlerOptions {
  /** Share latches with other handlers of the same store (default: a fresh set). */
  readonly latches?: Latches
  /**
   * Check that every modification touches a latched key and die otherwise (TinyKV's
   * `Latches.Validation` test hook). Costs a key decode per write; meant for tests.
   */
  readonly validateLatches?: boolean
}

/** Runs pure MVCC code: a corrupt record becomes a `StorageError`, anything else thrown is a defect. */
const pure = <A>(f: () => A): Effect.Effect<A, StorageError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      if (e instanceof MvccCorruption)
        return Effect.fail(new StorageError({ message: `corrupt MVCC data: ${e.message}` }))
      return Effect.die(e)
    }
  })

const userKeyOf = (m: Modify): Uint8Array => (m.cf === CF_LOCK ? m.key : decodeUserKey(m.key))

export const makeTxnHandlersWith = (options: TxnHandlerOptions = {}): Effect.Effect<TxnHandlers, never, KvStorage> =>
  Effect.gen(function* () {
    const storage = yield* KvStorage
    const latches = options.latches ?? (yield* makeLatches)

    const withReader = <A>(context: Context | undefined, f: (reader: KvReader) => A): Effect.Effect<A, KvError> =>
      Effect.scoped(Effect.flatMap(storage.reader(context, "txn"), (reader) => pure(() => f(reader))))

    const checkLatched = (keys: ReadonlyArray<Uint8Array>, writes: ReadonlyArray<Modify>): Effect.Effect<void> => {
      if (options.validateLatches !== true) return Effect.void
      const latched = new Set(keys.map(toLatin1))
      const stray = writes.find((m) => !latched.has(toLatin1(userKeyOf(m))))
      return stray === undefined
        ? Effect.void
        : Effect.dieMessage(`latch validation: ${stray.cf} write to unlatched key ${toHex(userKeyOf(stray))}`)
    }

    /**
     * Latch `keys`, decide from a fresh snapshot, write the outcome (the reader is closed first) in the term
     * the snapshot was read in. The latches serialize commands of this store only: if leadership moved to
     * another store and back meanwhile, that store's leader may have written these keys, and the raftstore
     * refuses a write two terms behind (`StaleCommand`) rather than apply a decision made without them. The
     * latches are held until the raftstore answers the write — applied, or its log index taken by another entry —
     * not until a deadline, nor until this caller is interrupted: a command decided while the entry could still
     * apply would not see it.
     */
    const writing = <R>(
      context: Context | undefined,
      keys: ReadonlyArray<Uint8Array>,
      command: (reader: KvReader) => CommandResult<R>
    ): Effect.Effect<R, KvError> =>
      latches.withLatchesHandingOff(keys, (handOff) =>
        Effect.gen(function* () {
          const { result, term } = yield* withReader(context, (reader) => ({
            result: command(reader),
            term: reader.term
          }))
          const { response, writes } = result
          if (writes.length > 0) {
            yield* checkLatched(keys, writes)
            // handed off: the latches stay until the raftstore answers, even if this caller is interrupted
            yield* handOff(
              storage.write(context !== undefined && term !== undefined ? { ...context, term } : context, "txn", writes)
            )
          }
          return response
        })
      )

    const reading = <R>(context: Context | undefined, command: (reader: KvReader) => CommandResult<R>) =>
      Effect.map(withReader(context, command), (r) => r.response)

    /** Runs `run` unless the request is invalid. */
    const valid = <A>(invalid: InvalidArgument | undefined, run: () => Effect.Effect<A, KvError>) =>
      invalid === undefined ? run() : Effect.fail(invalid)

    return {
      KvGet: (req) => valid(validateGet(req), () => reading(req.context, (r) => kvGet(r, req))),
      KvScan: (req) => valid(validateScan(req), () => reading(req.context, (r) => kvScan(r, req))),
      KvPrewrite: (req) =>
        valid(validatePrewrite(req), () =>
          writing(
            req.context,
            req.mutations.map((m) => m.key),
            (r) => kvPrewrite(r, req)
          )
        ),
      KvCommit: (req) => valid(validateCommit(req), () => writing(req.context, req.keys, (r) => kvCommit(r, req))),
      KvCheckTxnStatus: (req) =>
        valid(validateCheckTxnStatus(req), () =>
          writing(req.context, [req.primaryKey], (r) => kvCheckTxnStatus(r, req))
        ),
      KvBatchRollback: (req) =>
        valid(validateBatchRollback(req), () => writing(req.context, req.keys, (r) => kvBatchRollback(r, req))),
      // The keys are only known from a snapshot: find them, latch them, then decide on a fresh
      // snapshot restricted to them. A lock of this txn that appears in between (a late secondary
      // prewrite) is left for the next reader that meets it to resolve.
      KvResolveLock: (req) =>
        valid(validateResolveLock(req), () =>
          Effect.flatMap(
            withReader(req.context, (r) => resolveLockKeys(r, req)),
            (keys) =>
              keys.length === 0
                ? Effect.succeed<ResolveLockResponse>({})
                : writing(req.context, keys, (r) => kvResolveLock(r, req, keys))
          )
        )
    } satisfies TxnHandlers
  })

/** The handlers over the `KvStorage` in context, with their own latches. */
export const makeTxnHandlers: Effect.Effect<TxnHandlers, never, KvStorage> = makeTxnHandlersWith()
