/**
 * RegionRouter: sends a request to the leader of the region holding a key, with the request
 * `context` that region's store checks (region id, epoch, the peer asked), and retries what a
 * retry can fix until the operation's deadline.
 *
 * After each failed attempt the router first corrects its routing, then decides how soon to retry:
 * - `NotLeader` with a hint: remember the leader, retry at once; without a hint: ask another live peer
 *   after a wait, going round the live peers while they elect (the region stays cached).
 * - `EpochNotMatch`: cache the store's current regions (a split or membership change), retry at once.
 * - `RegionNotFound`, `KeyNotInRegion`, `StoreNotMatch`: drop the region (and the store's address),
 *   so the next attempt asks the scheduler again.
 * - the store silent (`RequestTimeout`): forget its address, ask another peer of the region at once
 *   (the attempt has waited already); the store unreachable (`StoreUnavailable`): the same, after a wait.
 * - `StaleCommand`, `ServerIsBusy`, scheduler failures, no region known yet: just wait.
 * - `InvalidArgument`, `StorageError`: fail at once; retrying cannot help.
 * - `DiskFull`: fail at once with the full store's id; the operator must free space first.
 * Waits grow exponentially (20 ms doubling up to 200 ms by default); "at once" retries are capped so two
 * stores pointing at each other cannot spin. When the deadline passes, the operation fails with the
 * last error an attempt saw.
 *
 * A raw write is not idempotent (`retrySafety.ts`): it is retried only after a failure that proves the
 * store never proposed it. After any other failure (a timeout or a connection lost once it was sent, an
 * answer marked `outcomeUnknown`, a `StorageError`, or the deadline passing while it was in flight) the
 * call fails with `Indeterminate`, after the routing was corrected as above.
 */
import type { RpcClientError } from "@effect/rpc"
import { Clock, Data, Duration, Effect, Schedule } from "effect"
import { inRange } from "../../protocol/bytes.js"
import type { KvError } from "../../protocol/errorpb.js"
import type { Context } from "../../protocol/kvrpc.js"
import type { Region } from "../../protocol/metapb.js"
import { StoreUnavailable } from "../../rpc/errors.js"
import type { CallDeadline, StoreConnection, TinyKvRpcClient } from "../../rpc/storeConnection.js"
import { type ClientError, Indeterminate } from "../errors.js"
import type { SendToKey } from "../send.js"
import type { ConnectionPool } from "./connectionPool.js"
import type { RegionCache, Route } from "./regionCache.js"
import { isIdempotent, unknownOutcome } from "./retrySafety.js"
import { type AttemptError, deadlineError, KeysSpanRegions, toClientError, type Verdict } from "./routeErrors.js"
import type { StoreAddresses } from "./storeAddresses.js"

export interface RouterOptions {
  /** The scheduler's address, for error messages. */
  readonly scheduler: string
  /** Per operation, retries included. */
  readonly deadlineMs: number
  /** First wait before a retry; doubles up to `backoffMaxMs`. */
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
}

// NB: a short cap keeps failover fast: while a region elects a new leader (≈ 0.5–1 s) the client polls it
export const defaultRouterTiming = { deadlineMs: 10_000, backoffBaseMs: 20, backoffMaxMs: 200 } as const

/** One request to one region's store, given the connection, the `context` to send and the region as cached. */
export type RegionCall<A> = (
  rpc: TinyKvRpcClient,
  context: Context,
  region: Region
) => Effect.Effect<A, KvError | RpcClientError.RpcClientError>

export interface RegionRouter {
  readonly cache: RegionCache
  /** The deadline (epoch ms) of an operation starting now; pass it on to share it between requests. */
  readonly deadline: Effect.Effect<number>
  /** `call` on the region holding `key`, retried until it succeeds or the deadline passes. */
  readonly request: <A>(
    key: Uint8Array,
    method: string,
    call: RegionCall<A>,
    deadlineAt?: number
  ) => Effect.Effect<A, ClientError>
  /**
   * Like `request` for a request naming several keys (routed by the first): fails with
   * `KeysSpanRegions`, before sending, when they do not all lie in the region the first is in.
   */
  readonly requestKeys: <A>(
    keys: ReadonlyArray<Uint8Array>,
    method: string,
    call: RegionCall<A>,
    deadlineAt?: number
  ) => Effect.Effect<A, ClientError | KeysSpanRegions>
  /** The region holding `key` (from the cache, else the scheduler), retried like a request. */
  readonly locate: (key: Uint8Array, deadlineAt?: number) => Effect.Effect<Region, ClientError>
}

interface Failure {
  readonly error: AttemptError | DeadlinePassed
  readonly route?: Route | undefined
  /** The store's address, once resolved. */
  readonly address?: string | undefined
  /** The request was handed to the store's connection (it may have reached the store). */
  readonly sent?: boolean | undefined
}

/** What an attempt is waiting on, to name it if the deadline cuts the attempt short. */
interface Progress {
  waitingOn: { readonly _tag: "Scheduler" } | { readonly _tag: "Store"; readonly address: string }
  /** The request is with the store's connection, unanswered. */
  inFlight: boolean
}

/** "At once" retries in a row before the router waits anyway. */
const MAX_IMMEDIATE_RETRIES = 3

/** An attempt failed in a way a retry may fix: `now` when the routing was just corrected. */
class Retry extends Data.TaggedError("Retry")<{ readonly now: boolean }> {}

/** A quick attempt's call was ended by the operation's deadline (not by the connection's timeout). */
class DeadlinePassed extends Data.TaggedError("DeadlinePassed")<{}> {}

export const makeRegionRouter = (
  cache: RegionCache,
  stores: StoreAddresses,
  pool: ConnectionPool,
  options: RouterOptions
): RegionRouter => {
  /** Between retries: `backoffBaseMs` doubling up to `backoffMaxMs`. */
  const backoff = Schedule.exponential(Duration.millis(options.backoffBaseMs), 2).pipe(
    Schedule.union(Schedule.spaced(Duration.millis(options.backoffMaxMs)))
  )

  /** Corrects the routing after a failure and says how to go on. */
  const react = (error: Exclude<AttemptError, KeysSpanRegions>, route: Route | undefined): Verdict => {
    switch (error._tag) {
      case "NotLeader":
        if (route === undefined) return "backoff"
        if (error.leader !== undefined) return cache.onNotLeader(route.region.id, error.leader) ? "now" : "backoff"
        // an election is running: ask another live peer, keeping the region (the scheduler names the lost leader)
        cache.onNoLeader(route.region.id, route.peer)
        return "backoff"
      case "EpochNotMatch":
        return route !== undefined && cache.onEpochNotMatch(route.region.id, error.currentRegions, route.peer.storeId)
          ? "now"
          : "backoff"
      case "RegionNotFound":
      case "KeyNotInRegion":
        if (route !== undefined) cache.invalidate(route.region.id)
        return "backoff"
      case "StoreNotMatch":
        if (route !== undefined) {
          stores.forget(route.peer.storeId)
          cache.invalidate(route.region.id)
        }
        return "backoff"
      case "StoreUnavailable":
      case "RequestTimeout":
      case "StoreRemoved":
        if (route !== undefined) {
          stores.forget(route.peer.storeId)
          cache.onPeerFailed(route.region.id, route.peer)
        }
        // a timeout has waited already: fail over to another peer without waiting again
        return error._tag === "RequestTimeout" && route !== undefined ? "now" : "backoff"
      case "SchedulerUnavailable":
        // a TLS refusal (our certificate, or plain TCP to a TLS port) does not go away by waiting
        return error.refused === true ? "fail" : "backoff"
      case "StaleCommand":
      case "ServerIsBusy":
      case "SchedulerError":
      case "NoRegion":
        return "backoff"
      case "InvalidArgument":
      case "StorageError":
      case "DiskFull":
        return "fail"
    }
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or the deadline passes (then: the last error).
   *
   * The first try is `quick`'s when it has one: an attempt whose route, store address and connection are
   * all at hand, so nothing in it waits but the call, which ends at the deadline by itself — no retry policy
   * and no race are built unless it fails (the client's hot path: docs/PERFORMANCE.md, "The client's CPU").
   * Its failure then counts as the first attempt's for the retry policies below.
   */
  const retrying = <A>(
    method: string,
    deadlineAt: number,
    attempt: (progress: Progress) => Effect.Effect<A, Failure>,
    quick?: (progress: Progress, deadline: CallDeadline<DeadlinePassed>) => Effect.Effect<A, Failure> | undefined
  ): Effect.Effect<A, ClientError | KeysSpanRegions> =>
    Effect.suspend(() => {
      let last: Exclude<AttemptError, KeysSpanRegions> | undefined
      const progress: Progress = { waitingOn: { _tag: "Scheduler" }, inFlight: false }
      const idempotent = isIdempotent(method)
      // the last error an attempt finished with; else what the attempt cut short was waiting on
      const giveUp = (): ClientError =>
        !idempotent && progress.inFlight && progress.waitingOn._tag === "Store"
          ? new Indeterminate({
              method,
              address: progress.waitingOn.address,
              reason: `the ${options.deadlineMs} ms deadline passed while the request was in flight`
            })
          : last !== undefined
            ? toClientError(last, options.scheduler)
            : progress.waitingOn._tag === "Store"
              ? deadlineError(progress.waitingOn.address, method, options.deadlineMs)
              : new StoreUnavailable({
                  address: options.scheduler,
                  message: `scheduler: no answer within the ${options.deadlineMs} ms deadline`
                })
      // a failure a retry may fix becomes `Retry`, after the routing was corrected; a write that may have
      // taken effect ends the call instead
      const verdictOn = (failure: Failure): ClientError | KeysSpanRegions | Retry => {
        const { error } = failure
        if (error._tag === "KeysSpanRegions") return error
        if (error._tag === "DeadlinePassed") return giveUp()
        const verdict = react(error, failure.route)
        const unknown = idempotent ? undefined : unknownOutcome(error, failure.sent === true)
        if (unknown !== undefined) {
          return new Indeterminate({ method, address: failure.address ?? "unknown store", reason: unknown })
        }
        if (verdict === "fail") return toClientError(error, options.scheduler)
        last = error
        return new Retry({ now: verdict === "now" })
      }
      const fresh = () => {
        progress.waitingOn = { _tag: "Scheduler" }
        progress.inFlight = false
      }
      const once = Effect.suspend(() => {
        fresh()
        return attempt(progress)
      }).pipe(Effect.mapError(verdictOn))
      // the attempts from `first` on, retried until the deadline
      const retried = (first: Effect.Effect<A, ClientError | KeysSpanRegions | Retry>) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          now >= deadlineAt
            ? Effect.fail(giveUp())
            : first.pipe(
                // a corrected route is tried at once, but only a few times in a row (two stores may point at each other)
                Effect.retry({ times: MAX_IMMEDIATE_RETRIES, while: (e) => e instanceof Retry && e.now }),
                Effect.retry({ schedule: backoff, while: (e) => e instanceof Retry }),
                Effect.timeoutFail({ duration: Duration.millis(deadlineAt - now), onTimeout: giveUp }),
                // the backoff never ends by itself: only the deadline stops it
                Effect.catchIf(
                  (e): e is Retry => e instanceof Retry,
                  () => Effect.fail(giveUp())
                )
              )
        )
      if (quick === undefined) return retried(once)
      return Effect.clockWith((clock) => {
        fresh()
        // NB: past the deadline already (a deadline shared by the parts of a batch): send nothing
        const quickTry =
          clock.unsafeCurrentTimeMillis() >= deadlineAt
            ? undefined
            : quick(progress, { at: deadlineAt, onPassed: () => new DeadlinePassed() })
        if (quickTry === undefined) return retried(once)
        return Effect.catchIf(
          Effect.mapError(quickTry, verdictOn),
          (e): e is Retry => e instanceof Retry,
          (failed) => {
            // the policies see the quick try's failure first, then run `once` for the next attempts
            let replay: Retry | undefined = failed
            return retried(
              Effect.suspend(() => {
                if (replay === undefined) return once
                const r = replay
                replay = undefined
                return Effect.fail(r)
              })
            )
          }
        )
      })
    })

  /** Sends `call` on `conn` for `route`, keeping `progress` up to date; the call ends by `deadline`, if given. */
  const sendOn = <A>(
    conn: StoreConnection,
    route: Route,
    address: string,
    method: string,
    call: RegionCall<A>,
    progress: Progress,
    deadline?: CallDeadline<DeadlinePassed>
  ): Effect.Effect<A, Failure> => {
    const { region, peer } = route
    const context: Context = { regionId: region.id, regionEpoch: region.regionEpoch, peer }
    progress.inFlight = true
    const landed = Effect.sync(() => {
      progress.inFlight = false
    })
    return conn
      .call(method, (rpc) => call(rpc, context, region), deadline)
      .pipe(
        Effect.mapError((error): Failure => ({ error, route, address, sent: true })),
        // an answer (or a failure) ends the flight; the deadline, ending the call or interrupting it, leaves it
        // in flight
        Effect.tapBoth({
          onFailure: (failure) => (failure.error._tag === "DeadlinePassed" ? Effect.void : landed),
          onSuccess: () => landed
        })
      )
  }

  /** One attempt: route `key`, check `keys` lie in its region, resolve the store, send. */
  const attemptOn =
    <A>(
      key: Uint8Array,
      keys: ReadonlyArray<Uint8Array> | undefined,
      method: string,
      call: RegionCall<A>
    ): ((progress: Progress) => Effect.Effect<A, Failure>) =>
    (progress) =>
      Effect.gen(function* () {
        const route = yield* Effect.mapError(cache.locate(key), (error): Failure => ({ error }))
        if (keys !== undefined && !keys.every((k) => inRange(k, route.region.startKey, route.region.endKey))) {
          return yield* Effect.fail<Failure>({ error: new KeysSpanRegions() })
        }
        const address = yield* Effect.mapError(
          stores.resolve(route.peer.storeId),
          (error): Failure => ({ error, route })
        )
        progress.waitingOn = { _tag: "Store", address }
        return yield* Effect.catchIf(
          pool.use(address, (conn) => sendOn(conn, route, address, method, call, progress)),
          (e): e is StoreUnavailable => e instanceof StoreUnavailable,
          (error) => Effect.fail<Failure>({ error, route, address })
        )
      })

  /** `attemptOn` from what is at hand, when all of it is: the cached route, address and open connection. */
  const quickOn =
    <A>(key: Uint8Array, keys: ReadonlyArray<Uint8Array> | undefined, method: string, call: RegionCall<A>) =>
    (progress: Progress, deadline: CallDeadline<DeadlinePassed>): Effect.Effect<A, Failure> | undefined => {
      const route = cache.lookup(key)
      if (route === undefined) return undefined
      if (keys !== undefined && !keys.every((k) => inRange(k, route.region.startKey, route.region.endKey))) {
        return undefined
      }
      const address = stores.cached(route.peer.storeId)
      if (address === undefined) return undefined
      return pool.useOpen(address, (conn) => {
        progress.waitingOn = { _tag: "Store", address }
        return sendOn(conn, route, address, method, call, progress, deadline)
      })
    }

  const deadline = Effect.map(Clock.currentTimeMillis, (now) => now + options.deadlineMs)
  const withDeadline = <A, E>(deadlineAt: number | undefined, f: (at: number) => Effect.Effect<A, E>) =>
    deadlineAt === undefined ? Effect.flatMap(deadline, f) : f(deadlineAt)

  return {
    cache,
    deadline,
    request: (key, method, call, deadlineAt) =>
      withDeadline(deadlineAt, (at) =>
        // a single key always lies in its own region: KeysSpanRegions cannot happen here
        Effect.catchTag(
          retrying(method, at, attemptOn(key, undefined, method, call), quickOn(key, undefined, method, call)),
          "KeysSpanRegions",
          Effect.die
        )
      ),
    requestKeys: (keys, method, call, deadlineAt) =>
      keys[0] === undefined
        ? Effect.die(new Error(`${method}: a request naming keys needs at least one`))
        : withDeadline(deadlineAt, (at) =>
            retrying(method, at, attemptOn(keys[0]!, keys, method, call), quickOn(keys[0]!, keys, method, call))
          ),
    locate: (key, deadlineAt) =>
      withDeadline(deadlineAt, (at) =>
        Effect.catchTag(
          retrying("locate", at, () =>
            Effect.map(
              Effect.mapError(cache.locate(key), (error): Failure => ({ error })),
              (route) => route.region
            )
          ),
          "KeysSpanRegions",
          Effect.die
        )
      )
  }
}

/** The router as the raw API's sender: each call to the leader of its key's region. */
export const sendToKey =
  (router: RegionRouter): SendToKey =>
  (key, method, call) =>
    router.request(key, method, (rpc, context, region) => call(rpc, context, region.endKey))
