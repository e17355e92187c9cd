/**
 * One RaftWorker round's working state (TiKV's `PollContext`), created when the round takes its batch
 * and dropped when it ends: the peers the round touched, what the per-peer handlers decided the round
 * must follow up on after its write (destroy, re-route, report to the scheduler), the peers that failed,
 * and every reply the write must precede. Handlers write it; the round loop reads it after the write.
 * Nothing of it outlives the round: the next round starts from an empty one.
 */
import { RaftInvariantError } from "../raft/index.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import type { Hibernation } from "./hibernate.js"
import type { PeerRegistry } from "./peerRegistry.js"
import type { Peer, Reply } from "./peer.js"

export class RoundContext {
  /** Peers stepped, ticked or proposed to: the round gathers a Ready from each. */
  readonly touched = new Set<Peer>()
  /**
   * Peers removed from their region or replaced by a newer peer: their destruction goes into the round's
   * write (`destroyOps`), and they are unregistered after it.
   */
  readonly toDestroy = new Set<Peer>()
  /** Messages the handlers answer with themselves (tombstone notices to removed peers), sent with the round's. */
  readonly outbound: Array<RaftMessage> = []
  /** Messages for a newer peer than the one here: back to the StoreWorker after the stale one is gone. */
  readonly reroute: Array<RaftMessage> = []
  /** Leaders due to measure their region for a split (run in the background after the round's write). */
  readonly splitChecks: Array<Peer> = []
  /** Leaders due to report their region to the scheduler. */
  readonly heartbeats: Array<Peer> = []
  /** Peers stopped during the round for breaking a Raft invariant, with what they broke. */
  readonly failed: Array<{ readonly peer: Peer; readonly error: RaftInvariantError }> = []
  /** Replies completed after the round's write (or answered RegionNotFound if the round fails). */
  readonly replies: Array<Reply> = []
  /** Ticks taken in this round (the worker adds them up for the store heartbeat). */
  ticks = 0

  constructor(
    readonly registry: PeerRegistry["Type"],
    /** The store's hibernation (absent in tests that drive a round's parts by hand). */
    readonly hibernation?: Hibernation
  ) {}

  /** Stops `peer` for the rest of its life on this store; the other peers of the round go on. */
  fail(peer: Peer, error: RaftInvariantError): void {
    if (peer.stopped) return
    this.registry.markFailed(peer, error)
    this.touched.delete(peer)
    this.failed.push({ peer, error })
  }

  /**
   * Runs one peer's synchronous step. A `RaftInvariantError` means that region's Raft state can no longer
   * be trusted: the peer stops, and only it. Anything else thrown is a bug of the store, not of one
   * region: it propagates and kills the worker (which then closes the store).
   */
  guard(peer: Peer, step: () => void): void {
    try {
      step()
    } catch (e) {
      if (!(e instanceof RaftInvariantError)) throw e
      this.fail(peer, e)
    }
  }
}
