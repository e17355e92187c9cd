/**
 * Requests naming several keys, over a cluster: the keys grouped by the regions cached (asking the
 * scheduler on a miss), one request per region. A request is sent to the region of its first key; if
 * its keys no longer lie in one region (a split since they were grouped), it is regrouped and sent as
 * one request per region, the answers merged. Used by transactions and by the raw batch calls.
 */
import { Effect, Schedule } from "effect"
import type { RegionId } from "../../protocol/ids.js"
import type { ClientError } from "../errors.js"
import type { SendToKeys } from "../send.js"
import type { RegionCall, RegionRouter } from "./regionRouter.js"
import type { KeysSpanRegions } from "./routeErrors.js"

/** Groups `items` by the region of their key, in order of first appearance, keeping their order. */
export const groupBy = <T>(
  router: RegionRouter,
  items: ReadonlyArray<T>,
  keyOf: (item: T) => Uint8Array,
  deadlineAt: number
): Effect.Effect<ReadonlyArray<ReadonlyArray<T>>, ClientError> =>
  Effect.gen(function* () {
    const groups = new Map<RegionId, Array<T>>()
    for (const item of items) {
      const region = yield* router.locate(keyOf(item), deadlineAt)
      const group = groups.get(region.id)
      if (group === undefined) groups.set(region.id, [item])
      else group.push(item)
    }
    return [...groups.values()]
  })

/**
 * Sends `items` (non-empty) in one request to their region, or, when they span regions, one request
 * per region (concurrently), merging the answers.
 */
type AttemptFailure = ClientError | KeysSpanRegions

export const perRegion = <T, A>(
  router: RegionRouter,
  method: string,
  items: ReadonlyArray<T>,
  keyOf: (item: T) => Uint8Array,
  send: (items: ReadonlyArray<T>) => RegionCall<A>,
  merge: (answers: ReadonlyArray<A>) => A
): Effect.Effect<A, ClientError> =>
  Effect.flatMap(router.deadline, (deadlineAt) => {
    const go = (part: ReadonlyArray<T>): Effect.Effect<A, ClientError> =>
      router.requestKeys(part.map(keyOf), method, send(part), deadlineAt).pipe(
        Effect.catchTag("KeysSpanRegions", (spans) =>
          Effect.flatMap(
            groupBy(router, part, keyOf, deadlineAt),
            (groups): Effect.Effect<A, AttemptFailure> =>
              groups.length === 1
                ? Effect.fail(spans)
                : Effect.map(Effect.forEach(groups, go, { concurrency: "unbounded" }), merge)
          )
        ),
        // the cache changed again under us (regrouping found one region): no progress, so pause before
        // trying once more; the router fails the request once the deadline passes
        Effect.retry({
          schedule: Schedule.spaced("20 millis"),
          while: (e: AttemptFailure) => e._tag === "KeysSpanRegions"
        }),
        Effect.catchTag("KeysSpanRegions", (e) => Effect.die(e))
      )
    return go(items)
  })

/** The router as the raw API's multi-key sender: one call per region, the answers in region order. */
export const sendToKeys =
  (router: RegionRouter): SendToKeys =>
  (items, keyOf, method, call) =>
    items.length === 0
      ? Effect.succeed([])
      : perRegion(
          router,
          method,
          items,
          keyOf,
          (part) => (rpc, context, region) => Effect.map(call(part)(rpc, context, region.endKey), (a) => [a]),
          (answers) => answers.flat()
        )
