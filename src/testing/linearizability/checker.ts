/**
 * A linearizability checker: the Wing & Gong search with Lowe's memoization, in the form Porcupine uses.
 *
 * The history becomes one list of call and return events in time order. The search walks it: at a call whose
 * operation the model accepts from the current state, it linearizes the operation (takes both events out of
 * the list) and starts again from the front; reaching a return event means the operation that returns there
 * was not linearized before it, so the last choice is undone. A set of (linearized operations, state) pairs
 * already explored prunes the search, which is what keeps real histories tractable.
 *
 * A model may split a history into independent parts (one per key for a key-value store), each checked alone:
 * the whole is linearizable exactly when every part is, and the parts are far smaller.
 */
import type { Operation } from "./history.js"

export interface Model<S, I, O> {
  readonly init: () => S
  /** The state after `input` with result `output` from `state`, or `undefined` if that result is impossible. */
  readonly step: (state: S, input: I, output: O | undefined, indefinite: boolean) => { readonly state: S } | undefined
  /** A string equal for equal states (memoization). */
  readonly key: (state: S) => string
  /** Independent sub-histories (default: the whole history). */
  readonly partition?: (ops: ReadonlyArray<Operation<I, O>>) => ReadonlyArray<ReadonlyArray<Operation<I, O>>>
  /** Renders an operation for a failure report. */
  readonly describe?: (op: Operation<I, O>) => string
}

export type CheckResult<I, O> =
  | { readonly _tag: "Ok"; readonly operations: number }
  /** `operations`: the part that has no linearization, in invocation order. */
  | { readonly _tag: "Illegal"; readonly operations: ReadonlyArray<Operation<I, O>>; readonly report: string }
  /** The search hit its step budget before deciding (never taken as a pass). */
  | { readonly _tag: "Unknown"; readonly operations: ReadonlyArray<Operation<I, O>> }

interface Event<I, O> {
  readonly op: Operation<I, O>
  readonly index: number
  readonly isCall: boolean
  readonly time: number
  /** The call's return event. */
  match: Event<I, O> | undefined
  prev: Event<I, O> | undefined
  next: Event<I, O> | undefined
}

/** Events in time order; at equal times calls first, so touching operations count as concurrent. */
const eventList = <I, O>(ops: ReadonlyArray<Operation<I, O>>): Event<I, O> => {
  const events: Array<Event<I, O>> = []
  ops.forEach((op, index) => {
    const call: Event<I, O> = {
      op,
      index,
      isCall: true,
      time: op.call,
      match: undefined,
      prev: undefined,
      next: undefined
    }
    const ret: Event<I, O> = {
      op,
      index,
      isCall: false,
      time: op.ret ?? Number.POSITIVE_INFINITY,
      match: undefined,
      prev: undefined,
      next: undefined
    }
    call.match = ret
    events.push(call, ret)
  })
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1))
  const head: Event<I, O> = {
    op: undefined as never,
    index: -1,
    isCall: false,
    time: Number.NEGATIVE_INFINITY,
    match: undefined,
    prev: undefined,
    next: undefined
  }
  let last = head
  for (const e of events) {
    last.next = e
    e.prev = last
    last = e
  }
  return head
}

/** Takes a call and its return out of the list. */
const lift = <I, O>(call: Event<I, O>): void => {
  call.prev!.next = call.next
  if (call.next !== undefined) call.next.prev = call.prev
  const ret = call.match!
  ret.prev!.next = ret.next
  if (ret.next !== undefined) ret.next.prev = ret.prev
}

/** Puts them back (in reverse order of `lift`). */
const unlift = <I, O>(call: Event<I, O>): void => {
  const ret = call.match!
  ret.prev!.next = ret
  if (ret.next !== undefined) ret.next.prev = ret
  call.prev!.next = call
  if (call.next !== undefined) call.next.prev = call
}

/** Checks one independent part. */
const checkPart = <S, I, O>(
  model: Model<S, I, O>,
  ops: ReadonlyArray<Operation<I, O>>,
  budget: number
): "Ok" | "Illegal" | "Unknown" => {
  const head = eventList(ops)
  const seen = new Set<string>()
  const stack: Array<{ call: Event<I, O>; state: S }> = []
  let linearized = 0n
  let state = model.init()
  let entry = head.next
  let steps = 0
  while (head.next !== undefined) {
    if (++steps > budget) return "Unknown"
    if (entry === undefined) return "Illegal" // cannot happen: the list always ends with a return
    if (entry.isCall) {
      const next = model.step(state, entry.op.input, entry.op.output, entry.op.ret === undefined)
      if (next !== undefined) {
        const bits = linearized | (1n << BigInt(entry.index))
        const memo = `${bits.toString(36)}|${model.key(next.state)}`
        if (!seen.has(memo)) {
          seen.add(memo)
          stack.push({ call: entry, state })
          state = next.state
          linearized = bits
          lift(entry)
          entry = head.next
          continue
        }
      }
      entry = entry.next
    } else {
      // an operation returns here that none of our choices could place before its return: undo the last one
      const top = stack.pop()
      if (top === undefined) return "Illegal"
      state = top.state
      linearized &= ~(1n << BigInt(top.call.index))
      unlift(top.call)
      entry = top.call.next
    }
  }
  return "Ok"
}

/**
 * Checks `history` against `model`. `budget` bounds the search steps of each part (default 5 million); a part
 * that exhausts it makes the result `Unknown`, which a caller must treat as a failure to check, not a pass.
 */
export const checkLinearizable = <S, I, O>(
  model: Model<S, I, O>,
  history: ReadonlyArray<Operation<I, O>>,
  options: { readonly budget?: number } = {}
): CheckResult<I, O> => {
  const budget = options.budget ?? 5_000_000
  const parts = model.partition?.(history) ?? [history]
  for (const part of parts) {
    const verdict = checkPart(model, part, budget)
    const ordered = [...part].sort((a, b) => a.call - b.call)
    if (verdict === "Unknown") return { _tag: "Unknown", operations: ordered }
    if (verdict === "Illegal") {
      const show = model.describe ?? ((op: Operation<I, O>) => JSON.stringify(op.input))
      const lines = ordered.map((op) => `  [${op.call}, ${op.ret ?? "?"}] client ${op.client}: ${show(op)}`)
      return { _tag: "Illegal", operations: ordered, report: `no linearization of:\n${lines.join("\n")}` }
    }
  }
  return { _tag: "Ok", operations: history.length }
}
