/**
 * Hibernate regions (TiKV's `GroupState`): a region with nothing to do costs no per-tick work.
 *
 * A leader with nothing pending (`canHibernate`) for an election timeout ASKS its followers to hibernate: its
 * heartbeats carry `SLEEP_MARK` (`Raft.idleContext`), and a follower that gets one from its leader goes to
 * sleep — it is no longer ticked, so it counts no election ticks — and answers with the mark. Once every other
 * member answered so, the leader sleeps too: it is no longer ticked, so it sends no heartbeats and runs no
 * CheckQuorum (it cannot step down for not hearing followers it no longer heartbeats). A leader that hears
 * from no follower keeps ticking, and CheckQuorum steps it down as usual. The store ticks only
 * `PeerRegistry.ticking`, so a sleeping peer costs nothing per tick.
 *
 * What wakes a peer: a command (a proposal, a read, an operator step: `onCommand`), and any Raft message but
 * a marked heartbeat from its leader (follower) or a heartbeat answer (leader). A woken leader heartbeats at
 * once (unmarked), which wakes its followers; it starts a fresh CheckQuorum window. A follower woken by
 * anything but its leader (a vote request, a missed check-in) sends its leader `WAKE_MARK`, which wakes it.
 * A woken region behaves as any other; ReadIndex confirms leadership with a heartbeat quorum as always.
 *
 * How a follower learns that its sleeping leader died: a sleeping leader checks in with a marked heartbeat
 * every `hibernateCheckInTicks`, and reports to the scheduler at a check-in when its report changed or at every
 * `REPORT_EVERY_CHECK_INS`-th one (nothing in its report changes while it sleeps; an operator the scheduler has
 * for it is asked for in the answer to the store's heartbeat, which makes it report at once,
 * `ReportToScheduler`); a follower that has heard
 * no check-in for two check-in periods plus an election timeout wakes, pings the leader, and campaigns (PreVote) after an
 * election timeout if nobody answers. Sound because a live leader answers the ping at once (so nothing is
 * deposed needlessly), and waking only ever costs work: a woken peer is an ordinary Raft peer. The other,
 * still sleeping follower wakes on the candidate's vote request; it refuses it for one election timeout
 * (CheckQuorum's lease, renewed when it woke) and pings the leader, then votes.
 *
 * Check-ins and follower deadlines are kept on a timing wheel keyed by the store's tick count, so a tick
 * visits only the peers due then.
 */
import type { Message } from "../protocol/eraftpb.js"
import { None } from "../raft/util.js"
import { MIN_ENTRIES_TO_COMPACT, type StoreConfig } from "./config.js"
import { heartbeatFingerprint } from "./heartbeatThrottle.js"
import type { Peer } from "./peer.js"
import type { PeerRegistry } from "./peerRegistry.js"

/**
 * A sleeping leader whose report did not change reports at every this many check-ins (5 min at the default
 * 30 s period): a keep-alive for a scheduler that restarted without its region map, and for clients' routing.
 */
export const REPORT_EVERY_CHECK_INS = 10

/** A heartbeat context no read uses (read contexts are 16 bytes, `readQueue.ts`): "hibernate with me". */
export const SLEEP_MARK = Uint8Array.of(0x48)
/** A follower's heartbeat answer asking its sleeping leader to wake. */
export const WAKE_MARK = Uint8Array.of(0x57)

const isMark = (ctx: Uint8Array | undefined, mark: Uint8Array): boolean =>
  ctx !== undefined && ctx.length === 1 && ctx[0] === mark[0]

/** The leader has nothing to do: everything replicated to every member and applied, nobody waiting. */
export const canHibernate = (peer: Peer, config: StoreConfig): boolean => {
  const r = peer.rawNode.raft
  if (r.state !== "Leader" || r.leadTransferee !== None) return false
  const last = r.raftLog.lastIndex()
  if (r.raftLog.committed !== last || peer.storage.appliedIndex !== last || r.pendingConfIndex > last) return false
  if (r.readOnly.size > 0 || r.pendingReadIndex.length > 0) return false
  if (peer.proposals.length > 0 || peer.reads.size > 0 || peer.replies.length > 0) return false
  // a split check still to run (or to finish) needs the leader's ticks: asleep, an unmeasured region or one
  // written past its max size would never split
  if (peer.splitCheckInFlight || peer.splitCheckDue(config.regionSplitSize)) return false
  // entries the next GC tick compacts (`raftLogReserveMaxTicks`): asleep, the region would keep them in memory
  if (last - peer.storage.firstIndex() >= MIN_ENTRIES_TO_COMPACT) return false
  for (const pr of r.prs.values()) if (pr.match !== last) return false
  return true
}

/** The store's side: its tick count, the wheel of sleeping peers, and the ticking set it feeds. */
export class Hibernation {
  /** Store ticks so far. */
  now = 0
  private readonly wheel = new Map<number, Set<Peer>>()

  constructor(
    readonly config: StoreConfig,
    readonly registry: PeerRegistry["Type"]
  ) {}

  get enabled(): boolean {
    return this.config.hibernateRegions
  }

  /** The peers a tick visits: the awake ones, or every peer when hibernation is off. */
  tickable(): Iterable<Peer> {
    return this.enabled ? this.registry.ticking : this.registry.peers.values()
  }

  /**
   * A leader's check-in tick, rounded up to a multiple of a thirtieth of the period (1 s at the default
   * 30 s): the leaders of a store that are due within the same bucket check in in the same round, so their
   * heartbeats to each other store travel as one batch and the followers answer them in one round. Spread
   * one per tick, 2,000 quiet regions cost each store ~110 rounds and ~150 messages a second, ~12 % of a
   * core (docs/PERFORMANCE.md, "Scale"). A check-in is late by less than a bucket, far inside the
   * followers' deadline of two periods and an election timeout.
   */
  private checkInAt(tick: number): number {
    const bucket = Math.max(1, Math.floor(this.config.hibernateCheckInTicks / 30))
    return Math.ceil(tick / bucket) * bucket
  }

  private schedule(peer: Peer, at: number): void {
    this.unschedule(peer)
    const tick = Math.max(at, this.now + 1)
    peer.hibernation.due = tick
    let bucket = this.wheel.get(tick)
    if (bucket === undefined) {
      bucket = new Set()
      this.wheel.set(tick, bucket)
    }
    bucket.add(peer)
  }

  private unschedule(peer: Peer): void {
    const h = peer.hibernation
    if (h.due === 0) return
    const bucket = this.wheel.get(h.due)
    bucket?.delete(peer)
    if (bucket?.size === 0) this.wheel.delete(h.due)
    h.due = 0
  }

  /**
   * One store tick, after the awake peers were ticked: the sleeping peers due now. A leader checks in (a
   * marked heartbeat; `report` is told to report it to the scheduler); a follower past its deadline wakes.
   * Returns the peers that have something to send.
   */
  onStoreTick(report: (peer: Peer) => void): Array<Peer> {
    this.now++
    const bucket = this.wheel.get(this.now)
    if (bucket === undefined) return []
    this.wheel.delete(this.now)
    const touched: Array<Peer> = []
    const checkIn = this.config.hibernateCheckInTicks
    for (const peer of bucket) {
      const h = peer.hibernation
      h.due = 0
      if (peer.stopped || h.state !== "asleep") continue
      if (peer.isLeader) {
        // a sleeping leader reports to the scheduler only at a check-in, and then only when its report changed
        // or every `REPORT_EVERY_CHECK_INS`-th time: nothing in it changes while it sleeps, an operator the
        // scheduler has for it is asked for in the answer to the store's heartbeat (`ReportToScheduler`), and
        // the scheduler expires no region for silence. One report per region per check-in was, at 10,000
        // regions, ~110 scheduler calls a second per store (docs/PERFORMANCE.md, "Scale")
        // (the keep-alives of regions that fell asleep together are staggered by region id, not sent in one burst)
        h.checkIns++
        const keepAlive = (h.checkIns + peer.regionId) % REPORT_EVERY_CHECK_INS === 0
        if (keepAlive || heartbeatFingerprint(peer) !== peer.lastHeartbeat) report(peer)
        peer.rawNode.raft.bcastHeartbeat(SLEEP_MARK)
        h.lastCheckIn = this.now
        this.schedule(peer, this.checkInAt(this.now + checkIn))
      } else {
        const deadline = h.lastCheckIn + this.followerDeadline()
        if (deadline > this.now) {
          this.schedule(peer, deadline)
          continue
        }
        // no check-in for this long: the lease is over, campaign within an election timeout unless the leader answers
        this.wake(peer, "ping")
        peer.rawNode.raft.electionElapsed = peer.rawNode.raft.electionTimeout
      }
      touched.push(peer)
    }
    return touched
  }

  private followerDeadline(): number {
    return 2 * this.config.hibernateCheckInTicks + this.config.electionTicks
  }

  /** A leader's tick: counts its quiet ticks, asks its followers once quiet long enough, or gives up asking. */
  afterLeaderTick(peer: Peer): void {
    if (!this.enabled) return
    const h = peer.hibernation
    if (!canHibernate(peer, this.config)) {
      if (h.state !== "awake") this.wake(peer, "quiet")
      h.quietTicks = 0
      return
    }
    h.quietTicks++
    if (h.state === "awake" && h.quietTicks >= this.config.electionTicks) {
      h.state = "asking"
      h.acks.clear()
      const r = peer.rawNode.raft
      r.idleContext = SLEEP_MARK
      r.bcastHeartbeat(SLEEP_MARK)
    }
  }

  /** Before a Raft message is stepped: wakes the peer unless the message leaves it asleep (see the header). */
  beforeStep(peer: Peer, m: Message): void {
    if (!this.enabled) return
    const h = peer.hibernation
    if (h.state === "awake") return
    if (peer.isLeader) {
      // answers to heartbeats (marked or not) leave it be; `afterStep` looks at what they showed
      if (m.msgType === "MsgHeartbeatResponse" && !isMark(m.context, WAKE_MARK)) return
      this.wake(peer, "quiet")
      return
    }
    const fromLeader = m.from === peer.leaderId
    if (fromLeader && m.msgType === "MsgHeartbeat" && isMark(m.context, SLEEP_MARK)) return
    this.wake(peer, fromLeader ? "quiet" : "ping")
  }

  /** After a Raft message was stepped: a marked heartbeat puts a follower to sleep; a marked answer is an ack. */
  afterStep(peer: Peer, m: Message): void {
    if (!this.enabled) return
    const h = peer.hibernation
    const r = peer.rawNode.raft
    if (h.state === "asleep" && r.state !== "Leader" && (r.state !== "Follower" || r.lead === None)) {
      // a sleeping leader deposed by a higher term in an answer: it must look for the new leader
      this.wake(peer, "ping")
      return
    }
    if (r.state === "Leader") {
      if (h.state === "awake") return
      if (!canHibernate(peer, this.config)) {
        this.wake(peer, "quiet")
        return
      }
      if (h.state === "asking" && m.msgType === "MsgHeartbeatResponse" && isMark(m.context, SLEEP_MARK)) {
        h.acks.add(m.from)
        for (const id of r.prs.keys()) if (id !== r.id && !h.acks.has(id)) return
        this.sleep(peer)
      }
      return
    }
    if (m.msgType !== "MsgHeartbeat" || !isMark(m.context, SLEEP_MARK)) return
    if (r.state !== "Follower" || r.lead !== m.from) return
    h.lastCheckIn = this.now
    if (h.state !== "asleep") this.sleep(peer)
  }

  private sleep(peer: Peer): void {
    const h = peer.hibernation
    h.state = "asleep"
    h.quietTicks = 0
    h.acks.clear()
    this.registry.ticking.delete(peer)
    if (peer.isLeader) {
      // spread the check-ins of regions that fell asleep together over the second half of the period (never
      // later than a period: the followers' deadline counts from the mark that put them to sleep)
      h.lastCheckIn = this.now
      const half = Math.max(1, Math.floor(this.config.hibernateCheckInTicks / 2))
      this.schedule(peer, this.checkInAt(this.now + this.config.hibernateCheckInTicks - (peer.regionId % half)))
    } else this.schedule(peer, h.lastCheckIn + this.followerDeadline())
  }

  /**
   * Wakes `peer` (a no-op for an awake one). A follower woken by something other than its leader (`"ping"`,
   * `"command"`) tells the leader to wake too: otherwise it would count election ticks without heartbeats. A leader that was asleep heartbeats at once and starts a fresh CheckQuorum
   * window: its followers did not answer while nobody asked them.
   */
  wake(peer: Peer, why: "quiet" | "ping" | "command"): void {
    const h = peer.hibernation
    if (h.state === "awake") return
    const wasAsleep = h.state === "asleep"
    h.state = "awake"
    h.quietTicks = 0
    h.acks.clear()
    this.unschedule(peer)
    const r = peer.rawNode.raft
    if (r.state === "Leader") r.idleContext = undefined
    if (!wasAsleep || peer.stopped) return
    this.registry.ticking.add(peer)
    if (r.state === "Leader") {
      r.electionElapsed = 0
      r.heartbeatElapsed = 0
      for (const pr of r.prs.values()) pr.recentActive = true
      r.bcastHeartbeat()
      return
    }
    // CheckQuorum's lease starts over: the leader was heard from as recently as the peer slept
    r.electionElapsed = 0
    if (why !== "quiet" && r.lead !== None && r.lead !== r.id) {
      r.send({ msgType: "MsgHeartbeatResponse", to: r.lead, context: WAKE_MARK })
    }
  }

  /** Forgets a peer that leaves the store (its wheel slot). */
  forget(peer: Peer): void {
    this.unschedule(peer)
  }

  /** How many of this store's peers are asleep (for metrics and tests). */
  asleepCount(): number {
    let n = 0
    for (const p of this.registry.peers.values()) if (p.hibernation.state === "asleep") n++
    return n
  }
}
