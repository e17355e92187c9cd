/**
 * Stable, compact text renderings of Raft values for test failure messages and logs
 * (etcd `DescribeMessage` / `DescribeEntries` / `DescribeReady`, TinyKV tests' `ltoa`).
 */
import type { Entry, HardState, Message, Snapshot } from "../protocol/eraftpb.js"
import { decodeConfChange } from "./confChange.js"
import type { RaftLog } from "./raftLog.js"
import type { Ready } from "./ready.js"

const printable = /^[\x20-\x7e]*$/

/** Payload preview: printable ASCII as a quoted string, else hex (truncated). */
export const describeData = (data: Uint8Array): string => {
  if (data.length === 0) return ""
  const text = String.fromCharCode(...data.subarray(0, 32))
  const more = data.length > 32 ? "…" : ""
  if (printable.test(text)) return JSON.stringify(text) + more
  return Array.from(data.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("") + more
}

/** `term/index` plus the payload, e.g. `2/7 "put k"` or `3/9 CC AddNode 4`. */
export const describeEntry = (e: Entry): string => {
  if (e.entryType === "EntryConfChange") {
    try {
      const cc = decodeConfChange(e.data)
      return `${e.term}/${e.index} CC ${cc.changeType} ${cc.nodeId}`
    } catch {
      return `${e.term}/${e.index} CC ${describeData(e.data)}`
    }
  }
  const d = describeData(e.data)
  return d === "" ? `${e.term}/${e.index}` : `${e.term}/${e.index} ${d}`
}

export const describeEntries = (ents: ReadonlyArray<Entry>): string => `[${ents.map(describeEntry).join(", ")}]`

export const describeHardState = (hs: HardState): string => `Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`

export const describeSnapshot = (s: Snapshot): string =>
  `Index:${s.metadata.index} Term:${s.metadata.term} ConfState:[${s.metadata.confState.nodes.join(" ")}]`

/** One line, e.g. `1->2 MsgAppend Term:3 Log:2/5 Commit:4 Entries:[3/6 "x"]`. */
export const describeMessage = (m: Message): string => {
  let s = `${m.from}->${m.to} ${m.msgType} Term:${m.term} Log:${m.logTerm}/${m.index}`
  if (m.commit !== 0) s += ` Commit:${m.commit}`
  if (m.reject) s += " Rejected"
  if (m.entries.length > 0) s += ` Entries:${describeEntries(m.entries)}`
  if (m.snapshot !== undefined) s += ` Snapshot:{${describeSnapshot(m.snapshot)}}`
  if (m.context !== undefined) s += ` Context:${describeData(m.context)}`
  return s
}

export const describeReady = (rd: Ready): string => {
  const lines: string[] = []
  if (rd.softState !== undefined) lines.push(`Lead:${rd.softState.lead} State:${rd.softState.raftState}`)
  if (rd.hardState !== undefined) lines.push(`HardState ${describeHardState(rd.hardState)}`)
  if (rd.entries.length > 0) lines.push(`Entries: ${describeEntries(rd.entries)}`)
  if (rd.snapshot !== undefined) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`)
  if (rd.committedEntries.length > 0) lines.push(`CommittedEntries: ${describeEntries(rd.committedEntries)}`)
  for (const m of rd.messages) lines.push(`Message ${describeMessage(m)}`)
  for (const rs of rd.readStates) lines.push(`ReadState Index:${rs.index} Ctx:${describeData(rs.requestCtx)}`)
  return lines.length === 0 ? "<empty Ready>" : lines.join("\n")
}

/** TinyKV `ltoa`: committed, applied, then one entry per line (compared as text by the log-equality tests). */
export const describeLog = (log: RaftLog): string => {
  const lines = [`committed: ${log.committed}`, `applied:  ${log.applied}`]
  for (const e of log.allEntries()) lines.push(`#${e.index}: ${describeEntry(e)}`)
  return lines.join("\n")
}
