/**
 * One peer's hibernation state (`Peer.hibernation`); what it means and who changes it: `hibernate.ts`.
 */
export class PeerHibernation {
  state: "awake" | "asking" | "asleep" = "awake"
  /** Leader: consecutive ticks with nothing pending. */
  quietTicks = 0
  /** Leader asking: the members that answered a marked heartbeat. */
  readonly acks = new Set<number>()
  /** Asleep: the store tick at which the wheel looks at it again (0: not on the wheel). */
  due = 0
  /** Asleep: the store tick of the leader's last check-in (a follower: heard; a leader: sent). */
  lastCheckIn = 0
  /** Leader: check-ins sent while asleep, ever (which of them carry a report to the scheduler: `hibernate.ts`). */
  checkIns = 0
}
