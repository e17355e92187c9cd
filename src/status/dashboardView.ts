/**
 * What the dashboard page fetches (`/api/cluster`): the scheduler's snapshot of the cluster as plain JSON
 * (keys as hex and, when printable, as text), plus each live store's request counters read from its own
 * `/metrics` — the page turns successive readings into ops/s and mean latency.
 */
import { HttpClient } from "@effect/platform"
import { Effect } from "effect"
import { fromUtf8, toHex } from "../protocol/bytes.js"
import type { ClusterSnapshot } from "../scheduler/clusterSnapshot.js"
import { parsePrometheusText } from "./promText.js"

/** Store-to-store traffic, not client operations. */
const INTERNAL_COMMANDS = new Set(["Raft", "Snapshot"])

export interface StoreRequests {
  /** Client requests handled since the store started. */
  readonly requests: number
  /** Of those, the ones that failed (any outcome but `ok`). */
  readonly failed: number
  /** Sum and count of their latencies (seconds), for a mean over an interval. */
  readonly latencySum: number
  readonly latencyCount: number
}

/** The client request counters in a store's `/metrics` text. */
export const storeRequests = (metricsText: string): StoreRequests => {
  let requests = 0
  let failed = 0
  let latencySum = 0
  let latencyCount = 0
  for (const s of parsePrometheusText(metricsText)) {
    if (INTERNAL_COMMANDS.has(s.labels.command ?? "")) continue
    if (s.name === "tinykv_requests_total") {
      requests += s.value
      if (s.labels.outcome !== "ok") failed += s.value
    } else if (s.name === "tinykv_request_duration_seconds_sum") latencySum += s.value
    else if (s.name === "tinykv_request_duration_seconds_count") latencyCount += s.value
  }
  return { requests, failed, latencySum, latencyCount }
}

const printable = (b: Uint8Array): string | undefined => {
  const text = fromUtf8(b)
  return /^[\x20-\x7e]*$/.test(text) ? text : undefined
}

const key = (b: Uint8Array) => ({ hex: toHex(b), text: printable(b) })

/** Reads a store's counters; `undefined` when it does not answer within a second, or refuses (403). */
const scrapeStore = (client: HttpClient.HttpClient, scheme: "http" | "https", statusAddress: string) =>
  HttpClient.filterStatusOk(client)
    .get(`${scheme}://${statusAddress}/metrics`)
    .pipe(
      Effect.flatMap((r) => r.text),
      Effect.map(storeRequests),
      Effect.timeout("1 second"),
      Effect.orElseSucceed(() => undefined)
    )

/** `scheme`: how the stores' status listeners are reached (`https` on a TLS cluster). */
export const dashboardView = (snapshot: ClusterSnapshot, scheme: "http" | "https" = "http") =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const stores = yield* Effect.forEach(
      snapshot.stores,
      (d) =>
        Effect.map(
          d.store.statusAddress === undefined || d.store.state === "Tombstone"
            ? Effect.succeed(undefined)
            : scrapeStore(client, scheme, d.store.statusAddress),
          (requests) => ({
            id: d.store.id,
            address: d.store.address,
            statusAddress: d.store.statusAddress ?? null,
            state: d.status,
            regionCount: d.regionCount,
            leaderCount: d.leaderCount,
            regionSizeMiB: d.regionSize,
            capacity: d.stats?.capacity ?? 0,
            available: d.stats?.available ?? 0,
            usedSize: d.stats?.usedSize ?? 0,
            lastHeartbeatMs: d.lastHeartbeatMs,
            requests: requests ?? null
          })
        ),
      { concurrency: "unbounded" }
    )
    return {
      clusterId: snapshot.clusterId,
      bootstrapped: snapshot.bootstrapped,
      at: Date.now(),
      stores,
      regions: snapshot.regions.map((r) => ({
        id: r.region.id,
        startKey: key(r.region.startKey),
        endKey: key(r.region.endKey),
        epoch: r.region.regionEpoch,
        peers: r.region.peers.map((p) => ({ id: p.id, storeId: p.storeId })),
        leaderStoreId: r.leader?.storeId ?? null,
        pendingPeerIds: r.pendingPeers.map((p) => p.id),
        approximateSizeMiB: r.approximateSize
      })),
      operators: snapshot.operators.map((o) => ({
        regionId: o.regionId,
        kind: o.kind,
        desc: o.desc,
        status: o.status,
        step: o.currentStep,
        steps: o.steps.length,
        createdMs: o.createdMs
      }))
    }
  })
