/**
 * A callback run when a command's reply (a `Deferred`) is completed — without a fiber waiting on it.
 *
 * Why: the store's fast lane starts a `RawPut` in one synchronous call (`server/fastWrites.ts`) and answers it
 * from this callback. Awaiting the reply instead takes a fiber per command and a scheduler turn to resume it
 * (docs/PERFORMANCE.md, "Writes without a fiber").
 *
 * Every completer of a reply (the RaftWorker's round, the command deadlines, a stopping store) goes through
 * `Deferred.unsafeDone`/`Deferred.succeed`, which call the `Deferred`'s waiters in order. Effect 3 exposes no
 * public way to join that list other than a fiber, so the callback is added to it directly: the `Deferred`'s
 * state is read through its documented-in-source shape (`effect/src/internal/deferred.ts`: a `MutableRef` of
 * `Pending { joiners }` or `Done { effect }`). Where the shape is not what it expects (another Effect version),
 * the callback is run by a fiber awaiting the reply instead — slower, never wrong. `test/raftstore/
 * replyCallback.test.ts` fails if the direct path is lost.
 */
import { Deferred, Effect, Exit } from "effect"

interface StateRef<A, E> {
  readonly current:
    | { readonly _tag: "Pending"; readonly joiners: Array<(effect: Effect.Effect<A, E>) => void> }
    | { readonly _tag: "Done"; readonly effect: Effect.Effect<A, E> }
}

/** An `Exit` as it is, else the (synchronous) effect a completer gave, run: the deadline's lazily built answer. */
const exitOf = <A, E>(effect: Effect.Effect<A, E>): Exit.Exit<A, E> =>
  Exit.isExit(effect) ? (effect as Exit.Exit<A, E>) : Effect.runSyncExit(effect)

const stateOf = <A, E>(deferred: Deferred.Deferred<A, E>): StateRef<A, E> | undefined => {
  const ref = (deferred as unknown as { readonly state?: StateRef<A, E> }).state
  const s = ref?.current
  if (s?._tag === "Pending" && Array.isArray(s.joiners)) return ref
  if (s?._tag === "Done" && s.effect !== undefined) return ref
  return undefined
}

/** Whether `whenDone` joins `deferred` directly (no fiber): always, with the Effect version this project pins. */
export const joinsDirectly = <A, E>(deferred: Deferred.Deferred<A, E>): boolean => stateOf(deferred) !== undefined

/** `whenDone` through a fiber that awaits `deferred`: the way when its state cannot be read. */
export const whenDoneByFiber = <A, E>(deferred: Deferred.Deferred<A, E>, f: (exit: Exit.Exit<A, E>) => void): void => {
  Effect.runCallback(Deferred.await(deferred), { onExit: f })
}

/** Calls `f` once with `deferred`'s outcome: at once when it is done already, else when it is completed. */
export const whenDone = <A, E>(deferred: Deferred.Deferred<A, E>, f: (exit: Exit.Exit<A, E>) => void): void => {
  const ref = stateOf(deferred)
  if (ref === undefined) {
    whenDoneByFiber(deferred, f)
    return
  }
  const s = ref.current
  if (s._tag === "Done") f(exitOf(s.effect))
  else s.joiners.push((effect) => f(exitOf(effect)))
}
