/**
 * `tinykv ctl health`: is the cluster up? The scheduler must answer; every store it knows (tombstones
 * aside) must be Up and answer an RPC on its own address; every region must have a leader. Prints a
 * line per check (or one JSON document) and sets exit code 1 when any check fails, for scripts:
 * `tinykv ctl health && deploy`. On a TLS cluster every check dials in mutual TLS with the given credentials.
 */
import { Effect } from "effect"
import { utf8 } from "../protocol/bytes.js"
import { connectStore } from "../rpc/storeConnection.js"
import type { TlsCredentials } from "../rpc/tlsCredentials.js"
import { makeCtlClient } from "./ctlClient.js"
import { table } from "./ctlFormat.js"
import type { OutputFormat } from "./pairFormat.js"
import { printLine } from "./stdio.js"

export interface StoreHealth {
  readonly id: number
  readonly address: string
  /** As the scheduler sees it: Up, Disconnected, Down, Offline. */
  readonly state: string
  /** The store answered an RPC within the timeout. */
  readonly reachable: boolean
  readonly error: string | null
}

export interface HealthReport {
  readonly healthy: boolean
  readonly scheduler: { readonly address: string; readonly reachable: boolean; readonly error: string | null }
  readonly stores: ReadonlyArray<StoreHealth>
  readonly regions: { readonly count: number; readonly withoutLeader: ReadonlyArray<number> }
}

/** A store serves when it answers at all: a refusal (a replicated store wants a region context) is an answer. */
const probeStore = (address: string, tls: TlsCredentials | undefined) =>
  Effect.gen(function* () {
    const conn = yield* connectStore(address, { timeout: "2 seconds", tls })
    return yield* conn.call("RawGet", (rpc) => rpc.RawGet({ key: utf8("health"), cf: "default" }))
  }).pipe(
    Effect.scoped,
    Effect.as(null),
    Effect.catchTags({
      StoreUnavailable: (e) => Effect.succeed(e.message),
      RequestTimeout: (e) => Effect.succeed(e.message)
    }),
    // any other failure is the store's answer: it is serving
    Effect.catchAll(() => Effect.succeed(null))
  )

export const checkHealth = (scheduler: string, tls?: TlsCredentials): Effect.Effect<HealthReport> =>
  Effect.gen(function* () {
    const ctl = yield* makeCtlClient(scheduler, "3 seconds", tls)
    const stores = yield* ctl.call("GetAllStores", (rpc, header) =>
      rpc.GetAllStores({ header, excludeTombstoneStores: true })
    )
    const regions = yield* ctl.call("ScanRegionDetails", (rpc, header) =>
      rpc.ScanRegionDetails({ header, startKey: new Uint8Array(), endKey: new Uint8Array(), limit: 0 })
    )
    const storeHealth = yield* Effect.forEach(
      stores.details,
      (d) =>
        Effect.map(
          probeStore(d.store.address, tls),
          (error): StoreHealth => ({
            id: d.store.id,
            address: d.store.address,
            state: d.status,
            reachable: error === null,
            error
          })
        ),
      { concurrency: "unbounded" }
    )
    const withoutLeader = regions.regions.filter((r) => r.leader === undefined).map((r) => r.region.id)
    return {
      healthy:
        storeHealth.length > 0 &&
        storeHealth.every((s) => s.reachable && s.state === "Up") &&
        withoutLeader.length === 0,
      scheduler: { address: scheduler, reachable: true, error: null },
      stores: storeHealth,
      regions: { count: regions.regions.length, withoutLeader }
    }
  }).pipe(
    Effect.scoped,
    Effect.catchAll(
      (e): Effect.Effect<HealthReport> =>
        Effect.succeed({
          healthy: false,
          scheduler: { address: scheduler, reachable: false, error: e.message },
          stores: [],
          regions: { count: 0, withoutLeader: [] }
        })
    )
  )

const text = (r: HealthReport): string => {
  const lines = [
    r.scheduler.reachable
      ? `scheduler ${r.scheduler.address}: ok`
      : `scheduler ${r.scheduler.address}: FAILED (${r.scheduler.error})`
  ]
  if (r.scheduler.reachable) {
    lines.push(
      r.stores.length === 0
        ? "stores: none registered"
        : table(
            ["STORE", "ADDRESS", "STATE", "ANSWERS"],
            r.stores.map((s) => [String(s.id), s.address, s.state, s.reachable ? "yes" : `no (${s.error})`])
          )
    )
    lines.push(
      r.regions.withoutLeader.length === 0
        ? `regions: ${r.regions.count}, each with a leader`
        : `regions: ${r.regions.count}; without a leader: ${r.regions.withoutLeader.join(", ")}`
    )
  }
  lines.push(r.healthy ? "healthy" : "UNHEALTHY")
  return lines.join("\n")
}

/** Checks, prints, and sets the exit code: 0 healthy, 1 not. */
export const health = (scheduler: string, format: OutputFormat, tls?: TlsCredentials) =>
  Effect.gen(function* () {
    const report = yield* checkHealth(scheduler, tls)
    yield* printLine(format === "json" ? JSON.stringify(report, null, 2) : text(report))
    if (!report.healthy) process.exitCode = 1
  })
