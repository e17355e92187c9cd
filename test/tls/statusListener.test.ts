/**
 * The status listener (`--status-addr`) of a process run with TLS: HTTPS with the cluster's
 * credentials, a client certificate of the CA required and the allow-list obeyed, like every other
 * link. A client with the right files reads `/metrics` and `/health`; plain HTTP, no certificate, a
 * certificate of another CA and a name not on the allow-list are each refused with a reason (and
 * logged), the listener serving on; replaced certificate files reach new connections without a
 * restart. In a TLS cluster the scheduler's dashboard still reads each store's `/metrics` (over HTTPS,
 * with its own certificate).
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import * as https from "node:https"
import { join } from "node:path"
import { X509Certificate } from "node:crypto"
import type * as tls from "node:tls"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ClusterTls, startLocalCluster } from "../../src/process/index.js"
import { parseAddress } from "../../src/rpc/address.js"
import type { TlsOptions } from "../../src/rpc/tlsCredentials.js"
import { eventually } from "../../src/testing/eventually.js"
import { makeTestCertificates, type TestCertificates } from "../support/certificates.js"
import { assertBuilt, freePort, startTinykv, stop } from "../support/cli.js"

let certs: TestCertificates
beforeAll(async () => {
  assertBuilt()
  certs = await makeTestCertificates()
}, 60_000)
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }))

interface Answer {
  readonly status: number
  readonly body: string
  /** SHA-256 fingerprint of the certificate the listener presented. */
  readonly presented: string
}

/** One HTTPS GET on a new connection, trusting `client.ca` and presenting its certificate (if it has one). */
const httpsGet = (address: string, path: string, client: { ca: string; cert?: string; key?: string }) =>
  Effect.async<Answer, Error>((resume) => {
    const { host, port } = parseAddress(address)
    const request = https.get(
      {
        host,
        port,
        path,
        agent: false,
        ca: readFileSync(client.ca),
        ...(client.cert === undefined ? {} : { cert: readFileSync(client.cert) }),
        ...(client.key === undefined ? {} : { key: readFileSync(client.key) })
      },
      (response) => {
        const presented = (response.socket as tls.TLSSocket).getPeerCertificate().fingerprint256
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (d) => (body += d))
        response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body, presented })))
      }
    )
    request.on("error", (e) => resume(Effect.fail(e)))
    return Effect.sync(() => request.destroy())
  })

const plainGet = (address: string, path: string) =>
  Effect.promise(async () => {
    const r = await fetch(`http://${address}${path}`)
    return { status: r.status, body: await r.text() }
  })

const fingerprintOf = (certFile: string) => new X509Certificate(readFileSync(certFile)).fingerprint256

/** Replaces `target` in one step (a rename), as a careful operator or a secrets agent does. */
const replace = (target: string, content: Buffer) => {
  writeFileSync(`${target}.next`, content)
  renameSync(`${target}.next`, target)
}

describe("the status listener with TLS", () => {
  it.scopedLive(
    "serves /metrics and /health over mutual TLS, refuses strangers saying why, and picks up new certificates",
    () =>
      Effect.gen(function* () {
        // the store's files in a directory of their own, so the test can rotate them
        const live = join(certs.dir, "status-live")
        mkdirSync(live, { recursive: true })
        const files: TlsOptions = {
          ca: join(live, "ca.pem"),
          cert: join(live, "store.crt"),
          key: join(live, "store.key")
        }
        copyFileSync(certs.ca.cert, files.ca)
        copyFileSync(certs.member.cert, files.cert)
        copyFileSync(certs.member.key, files.key)
        const status = `127.0.0.1:${yield* Effect.promise(freePort)}`
        const addr = `127.0.0.1:${yield* Effect.promise(freePort)}`
        const store = yield* Effect.acquireRelease(
          Effect.promise(() =>
            startTinykv(
              [
                "server",
                "--standalone",
                "--addr",
                addr,
                "--data",
                join(certs.dir, "status-data"),
                "--status-addr",
                status,
                "--tls-ca",
                files.ca,
                "--tls-cert",
                files.cert,
                "--tls-key",
                files.key,
                "--tls-allowed-cn",
                "member,client",
                "--log-format",
                "json"
              ],
              /status on https:\/\//
            )
          ),
          ({ child }) => Effect.promise(() => stop(child))
        )
        const pid = store.child.pid

        // a client of the cluster's CA, with a name on the allow-list
        const health = yield* httpsGet(status, "/health", certs.client)
        assert.strictEqual(health.status, 200)
        assert.deepStrictEqual(JSON.parse(health.body), { status: "ok", service: "store" })
        const metrics = yield* httpsGet(status, "/metrics", certs.client)
        assert.strictEqual(metrics.status, 200)
        assert.include(metrics.body, "# TYPE")
        assert.strictEqual(metrics.presented, fingerprintOf(certs.member.cert))

        // strangers: each refused, with the reason in the answer and in the store's log
        const plain = yield* plainGet(status, "/metrics")
        assert.strictEqual(plain.status, 400)
        assert.match(plain.body, /requires HTTPS/)
        const cases: ReadonlyArray<{ name: string; client: { ca: string; cert?: string; key?: string }; why: RegExp }> =
          [
            { name: "no certificate", client: { ca: certs.ca.cert }, why: /presented no certificate/ },
            { name: "another CA", client: certs.rogue, why: /wrong CA/ },
            { name: "expired", client: certs.expired, why: /expired/ },
            { name: "not on the allow-list", client: certs.intruder, why: /"intruder" is not on the allow-list/ }
          ]
        for (const c of cases) {
          const answer = yield* httpsGet(status, "/metrics", c.client)
          assert.strictEqual(answer.status, 403, c.name)
          assert.match(answer.body, c.why, c.name)
          assert.notInclude(answer.body, "# TYPE", c.name)
        }
        const logText = () => store.output().replaceAll('\\"', '"')
        for (const why of [/plain HTTP/, /presented no certificate/, /wrong CA/, /expired/, /"intruder" is not on/]) {
          yield* eventually(
            Effect.sync(() =>
              logText()
                .split("\n")
                .some((l) => l.includes("TLS: refused") && why.test(l))
            ),
            { what: `the store's log of the refusal ${why}`, timeout: "10 seconds", interval: "100 millis" }
          )
        }
        // the listener serves on
        assert.strictEqual((yield* httpsGet(status, "/health", certs.client)).status, 200)

        // rotation: a new certificate of the same CA replaces the files (key first, then certificate)
        const fresh = yield* Effect.promise(() => certs.issue("status-rotated", "member"))
        replace(files.key, readFileSync(fresh.key))
        replace(files.cert, readFileSync(fresh.cert))
        yield* eventually(
          Effect.map(httpsGet(status, "/health", certs.client), (a) => {
            assert.strictEqual(a.status, 200)
            assert.strictEqual(a.presented, fingerprintOf(fresh.cert), "the certificate presented")
          }),
          { what: "the status listener to present the new certificate", timeout: "20 seconds", interval: "100 millis" }
        )
        // same process: no restart
        assert.strictEqual(store.child.pid, pid)
        assert.isNull(store.child.exitCode)
        assert.strictEqual((yield* httpsGet(status, "/metrics", certs.client)).status, 200)
      }),
    90_000
  )

  it.scopedLive(
    "the scheduler's dashboard reads each store's /metrics over HTTPS",
    () =>
      Effect.gen(function* () {
        const tls: ClusterTls = {
          ca: certs.ca.cert,
          certificates: new Map([
            ["scheduler", certs.member],
            ["store-1", certs.member],
            ["client", certs.client]
          ]),
          allowedCn: ["member", "client"]
        }
        const cluster = yield* startLocalCluster({ stores: 1, schedulerArgs: ["--max-replicas", "1"], tls })
        yield* cluster.waitUntilWritable("60 seconds")
        yield* eventually(
          Effect.map(httpsGet(cluster.schedulerStatus, "/api/cluster", certs.client), (a) => {
            assert.strictEqual(a.status, 200)
            const view = JSON.parse(a.body) as { stores: Array<{ id: number; requests: { requests: number } | null }> }
            assert.strictEqual(view.stores.length, 1)
            // null when the scheduler could not read the store's /metrics
            assert.isNotNull(view.stores[0]!.requests, "the store's request counters")
            assert.isAbove(view.stores[0]!.requests!.requests, 0)
          }),
          { what: "the dashboard to show the store's request counters", timeout: "30 seconds", interval: "200 millis" }
        )
        // and a plain-HTTP scrape of the same store is refused
        const plain = yield* plainGet(cluster.stores[0]!.statusAddress, "/metrics")
        assert.strictEqual(plain.status, 400)
      }).pipe(Effect.provide(NodeContext.layer)),
    120_000
  )
})
