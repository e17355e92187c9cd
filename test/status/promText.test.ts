/** Reading a store's `/metrics` text back for the dashboard: samples, labels, and the client request totals. */
import { assert, describe, it } from "@effect/vitest"
import { storeRequests } from "../../src/status/dashboardView.js"
import { parsePrometheusText } from "../../src/status/promText.js"

const TEXT = `# HELP tinykv_requests_total store requests handled
# TYPE tinykv_requests_total counter
tinykv_requests_total{command="RawPut",outcome="ok"} 7
tinykv_requests_total{command="RawGet",outcome="NotLeader"} 2
tinykv_requests_total{command="Raft",outcome="ok"} 900
tinykv_request_duration_seconds_sum{command="RawPut"} 0.5
tinykv_request_duration_seconds_count{command="RawPut"} 7
tinykv_request_duration_seconds_sum{command="Raft"} 3
tinykv_request_duration_seconds_count{command="Raft"} 900
odd_metric{path="a \\"quoted\\" \\\\ value"} 1.5e3 1700000000000

not a sample line
`

describe("Prometheus text", () => {
  it("parses samples with labels (escapes included) and skips comments and junk", () => {
    const samples = parsePrometheusText(TEXT)
    assert.strictEqual(samples.length, 8)
    assert.deepStrictEqual(samples[0], {
      name: "tinykv_requests_total",
      labels: { command: "RawPut", outcome: "ok" },
      value: 7
    })
    assert.deepStrictEqual(samples[7], { name: "odd_metric", labels: { path: 'a "quoted" \\ value' }, value: 1500 })
  })

  it("sums a store's client requests, leaving store-to-store traffic out", () => {
    assert.deepStrictEqual(storeRequests(TEXT), { requests: 9, failed: 2, latencySum: 0.5, latencyCount: 7 })
  })
})
