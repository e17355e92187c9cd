/**
 * Raft's safety properties checked across the stores of a simulated cluster, by sampling every running
 * peer's in-memory Raft state (no hook in the raftstore):
 *
 * - **one leader per term**: two peers of one region never both lead in the same term;
 * - **committed entries never change**: the first time any store shows entry (region, index) committed,
 *   its term and a hash of its data are recorded; every later view, on any store, must match;
 * - **replicas apply the same log**: every peer's applied index is within its committed log. With the
 *   previous rule this makes every store's applied sequence of a region a prefix of one sequence.
 * - **a store's regions are disjoint, and its range index says so**: the live initialized peers of one
 *   store never overlap, and `RaftStore.ranges` (which the overlap checks of incoming snapshots and new
 *   peers use) records exactly them, at their current ranges.
 *
 * A peer's entries are checked once each as they become committed (a cursor per peer incarnation), and
 * `sampleAll` re-reads every log in full (at the end of a run), so an entry that changes after it was
 * first checked is caught too. A violation names the region, the index and the stores.
 */
import type { StoreId } from "../../protocol/ids.js"
import type { RaftStore } from "../../layers/raftStore.js"
import type { Peer } from "../../raftstore/peer.js"
import { isInitialized } from "../../raftstore/peerStorage.js"
import { rangesOverlap, sameRange } from "../../raftstore/regionUtil.js"

interface Committed {
  readonly term: number
  readonly hash: number
  readonly store: StoreId
}

/** FNV-1a over the entry's kind and data: equal entries hash equal, different ones almost never do. */
const entryHash = (entryType: string, data: Uint8Array): number => {
  let h = 0x811c9dc5
  h = Math.imul(h ^ (entryType === "EntryNormal" ? 1 : 2), 0x01000193)
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193)
  return h >>> 0
}

export class RaftInvariants {
  private readonly leaders = new Map<string, { readonly store: StoreId; readonly peer: number }>()
  private readonly committed = new Map<string, Committed>()
  /** The highest committed index already checked, per peer object (a restarted store has new ones). */
  private readonly cursors = new WeakMap<Peer, number>()
  /** Violations found, in the order found (the first is usually the one to read). */
  readonly violations: Array<string> = []
  /** Committed entries recorded (a measure of how much the check saw). */
  get entries(): number {
    return this.committed.size
  }

  /** Checks every running store's peers: new committed entries only (`full`: every entry in memory). */
  sample(stores: ReadonlyArray<{ readonly id: StoreId; readonly store: RaftStore | undefined }>, full = false) {
    for (const { id, store } of stores) {
      if (store === undefined) continue
      for (const peer of store.peers.values()) this.samplePeer(id, peer, full)
      this.sampleRanges(id, store)
      this.sampleFailed(id, store)
    }
  }

  /** Errors already reported as violations (a failed peer stays in its store's map until the store restarts). */
  private readonly reported = new WeakSet<object>()

  /**
   * A peer stopped for a broken Raft invariant, or that could not even be loaded, is a bug however well the other
   * replicas carry on (it only logs, so without this check a run that hit one could still pass).
   */
  private sampleFailed(store: StoreId, raftStore: RaftStore) {
    for (const [region, error] of raftStore.failed) {
      if (this.reported.has(error)) continue
      this.reported.add(error)
      this.fail(`store ${store}: the peer of region ${region} stopped: ${error.message}`)
    }
  }

  private sampleRanges(store: StoreId, raftStore: RaftStore) {
    const live = [...raftStore.peers.values()].filter((p) => isInitialized(p.region))
    const recorded = new Map(raftStore.ranges.entries())
    for (const p of live) {
      const at = recorded.get(p)
      if (at === undefined || !sameRange(at, p.region)) {
        this.fail(
          `store ${store}: the range index has region ${p.regionId} ${at === undefined ? "missing" : "at a stale range"}`
        )
      }
    }
    for (const owner of recorded.keys()) {
      if (raftStore.peers.get(owner.regionId) !== owner) {
        this.fail(`store ${store}: the range index still has region ${owner.regionId}, which has no live peer here`)
      }
    }
    for (const [i, a] of live.entries()) {
      for (const b of live.slice(i + 1)) {
        if (rangesOverlap(a.region, b.region))
          this.fail(`store ${store}: regions ${a.regionId} and ${b.regionId} overlap`)
      }
    }
  }

  private fail(message: string) {
    if (this.violations.length < 20) this.violations.push(message)
  }

  private samplePeer(store: StoreId, peer: Peer, full: boolean) {
    const raft = peer.rawNode.raft
    const region = peer.regionId
    if (raft.state === "Leader") {
      const key = `${region}:${raft.term}`
      const known = this.leaders.get(key)
      if (known === undefined) this.leaders.set(key, { store, peer: raft.id })
      else if (known.peer !== raft.id) {
        this.fail(
          `two leaders in region ${region} term ${raft.term}: peer ${known.peer} on store ${known.store} and peer ${raft.id} on store ${store}`
        )
      }
    }
    const log = raft.raftLog
    if (log.applied > log.committed) {
      this.fail(`region ${region} on store ${store}: applied ${log.applied} is past committed ${log.committed}`)
    }
    const from = Math.max(log.firstIndex(), full ? 0 : (this.cursors.get(peer) ?? 0) + 1)
    const to = Math.min(log.committed, log.lastIndex())
    if (from > to) return
    const entries = log.slice(from, to + 1)
    if (!Array.isArray(entries)) return
    for (const e of entries as ReadonlyArray<(typeof entries)[number]>) {
      const key = `${region}:${e.index}`
      const hash = entryHash(e.entryType, e.data)
      const seen = this.committed.get(key)
      if (seen === undefined) this.committed.set(key, { term: e.term, hash, store })
      else if (seen.term !== e.term || seen.hash !== hash) {
        this.fail(
          `committed entry changed: region ${region} index ${e.index} was term ${seen.term} (hash ${seen.hash}) on store ${seen.store}, is term ${e.term} (hash ${hash}) on store ${store}`
        )
      }
    }
    this.cursors.set(peer, to)
  }
}
