/**
 * Several scheduler addresses behind one `SchedulerClient`: calls go to the one that answered last;
 * when it cannot be reached (`SchedulerUnavailable`) the call moves on to the next address, in turn,
 * and fails only when none answered. The scheduler's own answers (`SchedulerError`) are final.
 */
import { Effect } from "effect"
import type { SchedulerClient } from "../../services/SchedulerClient.js"

type Client = SchedulerClient["Type"]

/** `"a:1,b:2"`, `["a:1", "b:2"]` → `["a:1", "b:2"]` (blanks dropped). */
export const schedulerAddresses = (scheduler: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  (typeof scheduler === "string" ? scheduler.split(",") : scheduler).map((a) => a.trim()).filter((a) => a.length > 0)

export const failoverScheduler = (clients: ReadonlyArray<Client>): Client => {
  const [first] = clients
  if (first === undefined) throw new Error("failoverScheduler: no scheduler client")
  if (clients.length === 1) return first
  let current = 0
  /** Runs `call` on the current client, then on each other one in turn while they are unreachable. */
  const tryEach = <A, E extends { readonly _tag: string }>(call: (c: Client) => Effect.Effect<A, E>) =>
    Effect.suspend(() => {
      const start = current
      const attempt = (i: number): Effect.Effect<A, E> => {
        const index = (start + i) % clients.length
        return call(clients[index]!).pipe(
          Effect.tap(() => Effect.sync(() => (current = index))),
          Effect.catchIf(
            (e) => e._tag === "SchedulerUnavailable" && i + 1 < clients.length,
            () => attempt(i + 1)
          )
        )
      }
      return attempt(0)
    })
  const wrapped: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(first)) {
    wrapped[name] =
      typeof member === "function"
        ? (...args: Array<unknown>) =>
            tryEach((c) =>
              (c[name as keyof Client] as (...a: Array<unknown>) => Effect.Effect<unknown, { _tag: string }>)(...args)
            )
        : tryEach((c) => c[name as keyof Client] as Effect.Effect<unknown, { _tag: string }>)
  }
  return wrapped as unknown as Client
}
