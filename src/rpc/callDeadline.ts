/**
 * A call's bound on a store connection: the connection's own timeout, or an operation's deadline when that
 * comes first (the cluster client's router passes its operation's deadline down to the call, so the call
 * ends by itself and the router needs no race of its own around it).
 */
/**
 * An operation's deadline that a call ends at too, when it comes before the connection's own timeout: at `at`
 * (Clock millis) the call fails with `onPassed()` instead of `RequestTimeout`.
 */
export interface CallDeadline<D> {
  readonly at: number
  readonly onPassed: () => D
}

/** How long a call may take from `now` and what it fails with then (`undefined`: `RequestTimeout`). */
export interface CallBound {
  readonly ms: number
  readonly onPassed: (() => unknown) | undefined
}

/** The bound of a call starting at `now` on a connection whose calls time out after `timeoutMs`. */
export const callBound = (timeoutMs: number, deadline: CallDeadline<unknown> | undefined, now: number): CallBound => {
  const remaining = deadline === undefined ? timeoutMs : deadline.at - now
  return remaining < timeoutMs
    ? { ms: Math.max(0, remaining), onPassed: deadline!.onPassed }
    : { ms: timeoutMs, onPassed: undefined }
}
