/**
 * Spans of a client command inside the raftstore, children of the span that sent it (the RPC server's):
 *
 * - `raft.propose`: from the proposal until its entry is committed and applied (replication to a quorum);
 * - `raft.apply`: from there until the reply is out — the round's engine write with its fsync included.
 *
 * The round is synchronous and runs in the RaftWorker's fiber, not the caller's, so the spans are made
 * with the caller's tracer directly and found again by the command's reply `Deferred` (a WeakMap: a
 * command dropped without a reply leaves nothing behind). Untraced commands — the tracer off, or no span
 * around the call — are never registered, and every hook is one failed lookup.
 */
import { type Clock, Context, Effect, Exit, FiberRef, Option, type Tracer } from "effect"

interface CommandTrace {
  readonly tracer: Tracer.Tracer
  readonly parent: Tracer.AnySpan
  readonly clock: Clock.Clock
  propose?: Tracer.Span
  apply?: Tracer.Span
}

const traces = new WeakMap<object, CommandTrace>()

const start = (t: CommandTrace, name: string): Tracer.Span =>
  t.tracer.span(name, Option.some(t.parent), Context.empty(), [], t.clock.unsafeCurrentTimeNanos(), "internal")

/** Registers the command whose reply is `reply`, when the caller is traced. */
export const traceCommand = (reply: object): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (!(yield* FiberRef.get(FiberRef.currentTracerEnabled))) return
    const parent = yield* Effect.option(Effect.currentParentSpan)
    if (Option.isNone(parent)) return
    traces.set(reply, { tracer: yield* Effect.tracer, parent: parent.value, clock: yield* Effect.clock })
  })

/** The command was appended to its leader's log. */
export const commandProposed = (reply: object | undefined): void => {
  const t = reply === undefined ? undefined : traces.get(reply)
  if (t !== undefined && t.propose === undefined) t.propose = start(t, "raft.propose")
}

/** The command's entry committed and applied; its reply waits for the round's write. */
export const commandApplied = (reply: object | undefined): void => {
  const t = reply === undefined ? undefined : traces.get(reply)
  if (t === undefined || t.apply !== undefined) return
  t.propose?.end(t.clock.unsafeCurrentTimeNanos(), Exit.void)
  t.apply = start(t, "raft.apply")
}

/** The caller has the reply (or gave up): ends whatever span is open. */
export const commandReplied = (reply: object, exit: Exit.Exit<unknown, unknown>): void => {
  const t = traces.get(reply)
  if (t === undefined) return
  traces.delete(reply)
  const now = t.clock.unsafeCurrentTimeNanos()
  if (t.apply !== undefined) t.apply.end(now, exit)
  else t.propose?.end(now, exit)
}
