/**
 * Unavailability under a fault: the longest stretch, from the moment the fault was injected until the next
 * fault (or the end of the faults), in which no client operation succeeded. The stretch starts at the
 * injection itself, so a fault that stops every operation at once counts from its first instant, and the
 * window includes the undoing (a restart, a heal), which may cost availability too.
 */
import type { FaultKind, FaultRecord } from "./faults.js"

export interface Unavailability {
  readonly faults: number
  readonly medianMs: number
  readonly maxMs: number
}

/** The longest gap between successes in `[from, to)`, counting from `from` and up to `to`. */
export const longestGap = (successes: ReadonlyArray<number>, from: number, to: number): number =>
  longestGapAt(successes, from, to).ms

/** The longest gap between successes in `[from, to)` (as `longestGap`), and where it starts. */
export const longestGapAt = (
  successes: ReadonlyArray<number>,
  from: number,
  to: number
): { readonly ms: number; readonly start: number } => {
  let previous = from
  let longest = { ms: 0, start: from }
  for (const t of successes) {
    if (t < from) continue
    if (t >= to) break
    if (t - previous > longest.ms) longest = { ms: t - previous, start: previous }
    previous = t
  }
  return to - previous > longest.ms ? { ms: to - previous, start: previous } : longest
}

/** One fault and its cost: how long it was held, its longest gap and where that began (ms after injection). */
export interface FaultGap {
  readonly kind: FaultKind
  readonly store: number
  readonly leader: boolean
  readonly heldMs: number
  readonly gapMs: number
  readonly gapFromMs: number
}

/** Every fault's longest gap (see `unavailabilityByKind` for the window); `successes` in ascending order. */
export const gapsByFault = (
  faults: ReadonlyArray<FaultRecord>,
  successes: ReadonlyArray<number>,
  end: number
): Array<FaultGap> => {
  const sorted = [...successes].sort((a, b) => a - b)
  return faults.map((f, i) => {
    const gap = longestGapAt(sorted, f.at, faults[i + 1]?.at ?? end)
    return {
      kind: f.kind,
      store: f.store,
      leader: f.leader,
      heldMs: f.undoneAt - f.at,
      gapMs: gap.ms,
      gapFromMs: gap.start - f.at
    }
  })
}

const median = (sorted: ReadonlyArray<number>): number => {
  if (sorted.length === 0) return 0
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2)
}

const summarize = (gaps: ReadonlyArray<number>): Unavailability => {
  const sorted = [...gaps].sort((a, b) => a - b)
  return { faults: sorted.length, medianMs: median(sorted), maxMs: sorted.at(-1) ?? 0 }
}

export interface UnavailabilityReport {
  readonly all: Unavailability
  readonly onLeader: Unavailability
  readonly onFollower: Unavailability
}

/**
 * Per fault kind: the median and the maximum unavailability over its faults, over all of them and split by
 * whether the faulted store led the first region. `successes` must be in ascending order; `end` closes the
 * last fault's window.
 */
export const unavailabilityByKind = (
  faults: ReadonlyArray<FaultRecord>,
  successes: ReadonlyArray<number>,
  end: number
): Partial<Record<FaultKind, UnavailabilityReport>> => {
  const sorted = [...successes].sort((a, b) => a - b)
  const gaps = faults.map((f, i) => ({ fault: f, gap: longestGap(sorted, f.at, faults[i + 1]?.at ?? end) }))
  const out: Partial<Record<FaultKind, UnavailabilityReport>> = {}
  for (const kind of new Set(faults.map((f) => f.kind))) {
    const mine = gaps.filter((g) => g.fault.kind === kind)
    out[kind] = {
      all: summarize(mine.map((g) => g.gap)),
      onLeader: summarize(mine.filter((g) => g.fault.leader).map((g) => g.gap)),
      onFollower: summarize(mine.filter((g) => !g.fault.leader).map((g) => g.gap))
    }
  }
  return out
}

/**
 * The control: the same measure with no fault on. For each calm stretch, from `settleMs` after a fault was
 * undone until the next fault, its longest gap with no success. Gaps this long happen with every store
 * up (the machine's scheduling, pauses of the processes), so a fault's figure near this one is not the
 * fault's cost. Stretches shorter than `minMs` are left out.
 */
export const calmGaps = (
  faults: ReadonlyArray<FaultRecord>,
  successes: ReadonlyArray<number>,
  settleMs: number,
  minMs: number
): Unavailability => {
  const sorted = [...successes].sort((a, b) => a - b)
  const gaps: Array<number> = []
  faults.forEach((f, i) => {
    const next = faults[i + 1]
    if (next !== undefined && next.at - (f.undoneAt + settleMs) >= minMs)
      gaps.push(longestGap(sorted, f.undoneAt + settleMs, next.at))
  })
  return summarize(gaps)
}
