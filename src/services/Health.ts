/**
 * Health: what a process's status listener reports. `/health` answers as long as the process runs;
 * `/ready` asks `ready` (a store: registered and serving its regions; the scheduler: serving); `/metrics`
 * runs `sample` first, so gauges read off live state (regions, leaders, stores) are current.
 */
import { Context, type Effect } from "effect"

export interface Readiness {
  readonly ready: boolean
  /** Why, in a few fields (regions, regions without a leader, …): the body of `/ready`. */
  readonly detail: Readonly<Record<string, string | number | boolean>>
}

export class Health extends Context.Tag("tinykv/Health")<
  Health,
  {
    /** `store` or `scheduler`: the `service` field of `/health`. */
    readonly service: string
    readonly ready: Effect.Effect<Readiness>
    /** Sets the gauges that are read off live state; run before each scrape. */
    readonly sample: Effect.Effect<void>
  }
>() {}
