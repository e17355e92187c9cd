/**
 * A history of concurrent operations, as the linearizability checker reads it: each operation has an
 * invocation and a completion point on one logical clock shared by every client of the run.
 *
 * An operation whose outcome is unknown (a timeout, a dropped connection) is *indefinite*: it may have taken
 * effect at any point after its invocation, or never. It is recorded with `ret: undefined`; the checker treats
 * it as still running at the end of time, which allows both.
 */

export interface Operation<I, O> {
  /** Unique within the history. */
  readonly id: number
  readonly client: number
  readonly input: I
  /** The observed result; `undefined` for an indefinite operation. */
  readonly output: O | undefined
  /** Logical time of the invocation. */
  readonly call: number
  /** Logical time of the completion; `undefined` when the outcome is unknown. */
  readonly ret: number | undefined
}

/** Records a run's operations on one logical clock (a counter: order is all the checker needs). */
export class HistoryRecorder<I, O> {
  private clock = 0
  private nextId = 0
  private readonly pending = new Map<number, { client: number; input: I; call: number }>()
  private readonly done: Array<Operation<I, O>> = []

  /** Marks the invocation of `input` by `client`; pass the id to `ok`, `indefinite` or `failed`. */
  invoke(client: number, input: I): number {
    const id = this.nextId++
    this.pending.set(id, { client, input, call: this.clock++ })
    return id
  }

  /** The operation completed with `output`. */
  ok(id: number, output: O): void {
    const p = this.take(id)
    this.done.push({ id, client: p.client, input: p.input, output, call: p.call, ret: this.clock++ })
  }

  /** The outcome is unknown: it may or may not have taken effect. */
  indefinite(id: number): void {
    const p = this.take(id)
    this.done.push({ id, client: p.client, input: p.input, output: undefined, call: p.call, ret: undefined })
  }

  /** The operation certainly did not take effect (a typed refusal before anything was written): dropped. */
  failed(id: number): void {
    this.take(id)
  }

  /** Every recorded operation; still-pending ones count as indefinite. */
  operations(): ReadonlyArray<Operation<I, O>> {
    const open = [...this.pending].map(
      ([id, p]): Operation<I, O> => ({
        id,
        client: p.client,
        input: p.input,
        output: undefined,
        call: p.call,
        ret: undefined
      })
    )
    return [...this.done, ...open]
  }

  private take(id: number) {
    const p = this.pending.get(id)
    if (p === undefined) throw new Error(`operation ${id} is not pending`)
    this.pending.delete(id)
    return p
  }
}
