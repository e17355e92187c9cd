/**
 * The safety properties the randomized suite checks after every step (Raft paper §5.2–§5.4, Figure 3):
 *
 * - **Election Safety**: at most one leader per term (`observeLeader`).
 * - **Log Matching**: if two logs hold an entry with the same index and term, the logs are identical up to it.
 *   Checked incrementally: every entry that ever enters a log is unstable first, and `observeEntries` requires
 *   that an (index, term) pair always carries the same payload *and the same predecessor term*; by induction over
 *   the index that gives identical prefixes.
 * - **Committed entries never change** (Leader Completeness / State Machine Safety): every index a node reports
 *   committed must hold the same entry on every node, forever (`observeCommitted`).
 * - **Applied sequences are prefixes of one sequence**: every node applies indexes contiguously, and the entry it
 *   applies at index i is the one every other node applied (or will apply) at i (`observeApplied`); at the end,
 *   `checkAppliedPrefixes` also compares the sequences directly.
 */
import type { Entry } from "../../../src/protocol/eraftpb.js"
import { describeEntry } from "../../../src/raft/index.js"

export class SafetyViolation extends Error {
  constructor(message: string) {
    super(message)
    this.name = "SafetyViolation"
  }
}

const fail = (message: string): never => {
  throw new SafetyViolation(message)
}

/** Identity of an entry's content: type and payload (term and index are the key). */
export const payloadKey = (e: Entry): string => {
  const d = e.data
  let s = e.entryType === "EntryConfChange" ? "C" : "N"
  for (let i = 0; i < d.length; i++) s += `${d[i]!.toString(16)}.`
  return s
}

/** Identity of an entry, including its position. */
export const entryKey = (e: Entry): string => `${e.index}@${e.term}:${payloadKey(e)}`

export class Checker {
  private readonly leaders = new Map<number, number>()
  /** "index@term" -> payload + predecessor term. */
  private readonly entries = new Map<string, string>()
  /** index -> entryKey of the committed entry at that index. */
  private readonly committed = new Map<number, string>()
  leaderElections = 0
  maxCommitted = 0

  observeLeader(term: number, id: number): void {
    const known = this.leaders.get(term)
    if (known === undefined) {
      this.leaders.set(term, id)
      this.leaderElections++
    } else if (known !== id) {
      fail(`election safety: nodes ${known} and ${id} are both leader of term ${term}`)
    }
  }

  /** `prevTerm` is the term of the entry before `ents[0]` in the same log (undefined if compacted). */
  observeEntries(node: number, ents: ReadonlyArray<Entry>, prevTerm: number | undefined): void {
    let prev = prevTerm
    for (const e of ents) {
      const k = `${e.index}@${e.term}`
      const v = `${payloadKey(e)}<${prev ?? "?"}`
      const known = this.entries.get(k)
      if (known === undefined) this.entries.set(k, v)
      else if (known !== v) {
        // A compacted predecessor ("?") cannot be compared; the payload still must match.
        const [kp, kprev] = known.split("<") as [string, string]
        const [vp, vprev] = v.split("<") as [string, string]
        if (kp !== vp || (kprev !== "?" && vprev !== "?" && kprev !== vprev))
          fail(`log matching: node ${node} has ${describeEntry(e)} (prev term ${prev}) but elsewhere it is ${known}`)
        if (kprev === "?") this.entries.set(k, v)
      }
      prev = e.term
    }
  }

  observeCommitted(node: number, e: Entry): void {
    const key = entryKey(e)
    const known = this.committed.get(e.index)
    if (known === undefined) this.committed.set(e.index, key)
    else if (known !== key)
      fail(`committed entry changed: node ${node} has ${key} at ${e.index}, committed was ${known}`)
    if (e.index > this.maxCommitted) this.maxCommitted = e.index
  }

  observeApplied(node: number, prevApplied: number, e: Entry): void {
    if (e.index !== prevApplied + 1) fail(`node ${node} applied ${e.index} right after ${prevApplied}`)
    this.observeCommitted(node, e)
  }

  /** Whether `index` is known committed, and with which entry key. */
  committedAt(index: number): string | undefined {
    return this.committed.get(index)
  }
}

/** Every applied sequence (index-tagged keys, contiguous from `start`) must be a prefix of the longest. */
export const checkAppliedPrefixes = (seqs: ReadonlyArray<{ node: number; start: number; keys: string[] }>): void => {
  let longest: { node: number; start: number; keys: string[] } | undefined
  for (const s of seqs)
    if (longest === undefined || s.start + s.keys.length > longest.start + longest.keys.length) longest = s
  if (longest === undefined) return
  for (const s of seqs) {
    for (let i = 0; i < s.keys.length; i++) {
      const index = s.start + i
      const j = index - longest.start
      if (j < 0) continue // before the longest sequence's snapshot: compared against committed entries instead
      if (longest.keys[j] !== s.keys[i])
        fail(
          `applied sequences diverge at index ${index}: node ${s.node} ${s.keys[i]} vs node ${longest.node} ${longest.keys[j]}`
        )
    }
  }
}
