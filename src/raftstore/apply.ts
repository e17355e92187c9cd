/**
 * Applying committed entries (TinyKV `HandleRaftReady`'s apply half): every replica runs the same
 * entries through the same checks and reaches the same state. Data writes, the region state and the
 * new applied index go into the round's single write batch; Get reads see earlier writes of the same
 * batch through an overlay.
 *
 * Apply-time checks decide, not propose-time ones: a command proposed under an old epoch, or for a key
 * that has since left the region, fails here on every replica alike.
 */
import { compareBytes, toLatin1 } from "../protocol/bytes.js"
import type { Entry } from "../protocol/eraftpb.js"
import { EpochNotMatch } from "../protocol/errorpb.js"
import { physicalKey } from "../protocol/keyspace.js"
import type { Region } from "../protocol/metapb.js"
import type { ChangePeerRequest, RaftCmdRequest, RaftCmdResponse, Response } from "../protocol/raftCmd.js"
import { decodeConfChange } from "../raft/index.js"
import { type Cf, type EngineReader, isCf, type WriteOp } from "../services/Storage.js"
import { RaftCmdCodec, RegionLocalStateCodec } from "./codec.js"
import { raftLogKey, regionStateKey } from "./keys.js"
import type { Peer, Reply } from "./peer.js"
import { checkRequestInRegion, checkRegionEpoch } from "./regionUtil.js"
import { applySplit, type SplitOutcome } from "./split.js"
import { adminResponse, errorResponse, okResponse, staleResponse } from "./responses.js"
import { commandApplied } from "./tracing.js"

/** What applying changed beyond the write batch, for the worker to act on after the write. */
export interface ApplyOutcome {
  /**
   * The peer applied its own removal: the caller adds its destruction to the same batch (nothing of the
   * peer's state is written after it) and unregisters it once the batch is written.
   */
  destroySelf: boolean
  /** The region's metadata changed (membership): refresh the store's region map. */
  regionChanged: boolean
  /** Bytes written by data commands (for the split checker). */
  bytesWritten: number
  /** Splits applied: the parent is already the left half; the right half's peer is the caller's to make. */
  splits: Array<SplitOutcome>
  /** The raft log was compacted up to this index (for the operator's log). */
  compactedTo: number | undefined
}

/**
 * Pending writes of this round, so a later Get in the same batch sees an earlier Put — and, after a
 * snapshot installed in the same round, sees the snapshot's data rather than the engine's old range.
 */
export class Overlay {
  private readonly pending = new Map<string, Uint8Array | null>()
  private readonly cleared: Array<{ cf: Cf; start: Uint8Array; end: Uint8Array }> = []
  constructor(private readonly engine: EngineReader) {}
  put(cf: Cf, key: Uint8Array, value: Uint8Array | null) {
    this.pending.set(`${cf}:${toLatin1(key)}`, value)
  }
  /** Records a data op written by something other than apply (a snapshot's clear and load). */
  track(op: WriteOp) {
    if (!isCf(op.space)) return
    if (op._tag === "Put") this.put(op.space, op.key, op.value)
    else if (op._tag === "Delete") this.put(op.space, op.key, null)
    else this.cleared.push({ cf: op.space, start: op.start, end: op.end })
  }
  get(cf: Cf, key: Uint8Array): Uint8Array | undefined {
    const v = this.pending.get(`${cf}:${toLatin1(key)}`)
    if (v === null) return undefined
    if (v !== undefined) return v
    for (const r of this.cleared) {
      if (r.cf === cf && compareBytes(key, r.start) >= 0 && (r.end.length === 0 || compareBytes(key, r.end) < 0)) {
        return undefined
      }
    }
    return this.engine.get(cf, key)
  }
}

export const applyEntries = (
  peer: Peer,
  entries: ReadonlyArray<Entry>,
  overlay: Overlay,
  ops: Array<WriteOp>,
  replies: Array<Reply>
): ApplyOutcome => {
  const outcome: ApplyOutcome = {
    destroySelf: false,
    regionChanged: false,
    bytesWritten: 0,
    splits: [],
    compactedTo: undefined
  }
  const storage = peer.storage
  let applied = storage.applyState
  for (const e of entries) {
    if (e.index <= applied.appliedIndex) continue // applied before a restart or covered by a snapshot
    let response: RaftCmdResponse | undefined
    if (e.entryType === "EntryConfChange") {
      response = applyConfChange(peer, e, ops, outcome)
    } else if (e.data.length > 0) {
      const req = decodeCommand(e.data)
      if (req.adminRequest?._tag === "CompactLog") {
        const { compactIndex, compactTerm } = req.adminRequest
        const t = applied.truncatedState
        if (compactIndex > t.index && compactIndex <= e.index) {
          ops.push({
            _tag: "DeleteRange",
            space: "raft",
            start: raftLogKey(peer.regionId, t.index + 1),
            end: raftLogKey(peer.regionId, compactIndex + 1),
            // not durable before the truncated state and applied index it follows (`services/Storage.ts`)
            afterData: true
          })
          applied = { ...applied, truncatedState: { index: compactIndex, term: compactTerm } }
          outcome.compactedTo = compactIndex
        }
        response = adminResponse({ _tag: "CompactLog" }, peer.term)
      } else if (req.adminRequest?._tag === "Split") {
        const split = applySplit(peer, req, req.adminRequest, ops)
        response = split.response
        if (split.outcome !== undefined) {
          outcome.splits.push(split.outcome)
          outcome.regionChanged = true
        }
      } else {
        response = applyData(peer, req, overlay, ops, outcome)
      }
    }
    applied = { ...applied, appliedIndex: e.index }
    answerProposals(peer, e, response, replies)
    if (outcome.destroySelf) break
  }
  peer.sizeDiffHint += outcome.bytesWritten
  // a peer that removed itself gets no apply state: its destruction deletes it in this same batch
  if (applied !== storage.applyState && !outcome.destroySelf) storage.setApplyState(applied, ops)
  return outcome
}

const decodeCommand = (data: Uint8Array): RaftCmdRequest => RaftCmdCodec.decode(data)

const applyData = (
  peer: Peer,
  req: RaftCmdRequest,
  overlay: Overlay,
  ops: Array<WriteOp>,
  outcome: ApplyOutcome
): RaftCmdResponse => {
  const region = peer.region
  // (TEST ONLY: the simulator's self-test can switch these checks off, to show its checks catch it)
  if (peer.unsafeTestOnly?.applySkipsEpochCheck !== true) {
    const epochError = checkRegionEpoch(req, region)
    if (epochError) return errorResponse(peer.withSibling(epochError), peer.term)
    for (const r of req.requests) {
      if (r._tag === "Snap") continue
      const e = checkRequestInRegion(r, region)
      if (e) return errorResponse(e, peer.term)
    }
  }
  const responses: Array<Response> = []
  for (const r of req.requests) {
    switch (r._tag) {
      case "Put": {
        const cf = r.cf as Cf
        const key = physicalKey(r.space ?? "raw", r.key)
        ops.push({ _tag: "Put", space: cf, key, value: r.value })
        overlay.put(cf, key, r.value)
        outcome.bytesWritten += r.key.length + r.value.length
        responses.push({ _tag: "Put" })
        break
      }
      case "Delete": {
        const cf = r.cf as Cf
        const key = physicalKey(r.space ?? "raw", r.key)
        ops.push({ _tag: "Delete", space: cf, key })
        overlay.put(cf, key, null)
        outcome.bytesWritten += r.key.length
        responses.push({ _tag: "Delete" })
        break
      }
      case "Get": {
        const value = overlay.get(r.cf as Cf, physicalKey(r.space ?? "raw", r.key))
        responses.push(value === undefined ? { _tag: "Get" } : { _tag: "Get", value })
        break
      }
      case "Snap":
        responses.push({ _tag: "Snap", region })
        break
    }
  }
  return okResponse(responses, peer.term)
}

const applyConfChange = (peer: Peer, e: Entry, ops: Array<WriteOp>, outcome: ApplyOutcome): RaftCmdResponse => {
  const cc = decodeConfChange(e.data)
  const req = RaftCmdCodec.decode(cc.context)
  const admin = req.adminRequest
  const region = peer.region
  const refusal = admin?._tag === "ChangePeer" ? checkChangePeer(req, admin, region) : "not a ChangePeer"
  if (admin?._tag !== "ChangePeer" || refusal !== undefined) {
    // stale or invalid: make the core forget it without changing membership (node id 0 is a no-op)
    peer.rawNode.applyConfChange({ ...cc, nodeId: 0 })
    return errorResponse(new EpochNotMatch({ currentRegions: [region] }), peer.term)
  }
  const target = admin.peer
  const present = region.peers.some((p) => p.id === target.id)
  let peers = region.peers
  if (admin.changeType === "AddNode" && !present) peers = [...peers, target]
  if (admin.changeType === "RemoveNode" && present) peers = peers.filter((p) => p.id !== target.id)
  if (peers !== region.peers) {
    const next: Region = {
      ...region,
      peers,
      regionEpoch: { ...region.regionEpoch, confVer: region.regionEpoch.confVer + 1 }
    }
    peer.storage.region = next
    ops.push({
      _tag: "Put",
      space: "meta",
      key: regionStateKey(next.id),
      value: RegionLocalStateCodec.encode({ state: "Normal", region: next })
    })
    outcome.regionChanged = true
    if (admin.changeType === "AddNode") peer.insertPeerCache(target)
    else peer.removePeerCache(target.id)
  }
  peer.rawNode.applyConfChange(cc)
  if (admin.changeType === "RemoveNode" && target.id === peer.meta.id) outcome.destroySelf = true
  return adminResponse({ _tag: "ChangePeer", region: peer.region }, peer.term)
}

/**
 * Why a committed ChangePeer must not change the region, or `undefined` (TinyKV's apply-time epoch check,
 * plus the one-peer-per-store rule): it was proposed under another conf version (a change committed in
 * between), it would add a second peer on a store, or it would remove the last peer.
 */
const checkChangePeer = (
  req: RaftCmdRequest,
  admin: typeof ChangePeerRequest.Type,
  region: Region
): string | undefined => {
  if (region.regionEpoch.confVer !== req.header.regionEpoch.confVer) return "stale conf version"
  const target = admin.peer
  if (admin.changeType === "AddNode") {
    const onStore = region.peers.find((p) => p.storeId === target.storeId)
    if (onStore !== undefined && onStore.id !== target.id) return "the store already has a peer of the region"
  } else if (region.peers.length === 1 && region.peers[0]!.id === target.id) return "the last peer"
  return undefined
}

/**
 * Pops the proposals up to `e`: older ones were superseded, the matching one gets `response`.
 *
 * A read (`Snap`) is answered only while the peer's term is still its entry's: the answer's term is the
 * read's, which a write decided from it names (`transaction/handlers.ts`); a term that moved on could hide
 * another leader's writes after the read. Only the reply changes: what applied is the same on every replica.
 */
const answerProposals = (peer: Peer, e: Entry, response: RaftCmdResponse | undefined, replies: Array<Reply>) => {
  while (peer.proposals.length > 0) {
    const p = peer.proposals[0]!
    if (p.index > e.index) return
    peer.proposals.shift()
    if (p.reply === undefined) continue
    commandApplied(p.reply)
    const matches = p.index === e.index && p.term === e.term && response !== undefined
    const readInTerm = peer.term === e.term || !response?.responses.some((r) => r._tag === "Snap")
    if (matches && readInTerm) replies.push([p.reply, response])
    // another entry took the proposal's index: the command never applies (a client may send it again).
    // A proposal whose index passed unseen (not expected to happen) is answered as of unknown outcome.
    else replies.push([p.reply, staleResponse(peer.term, p.index < e.index)])
  }
}
