/**
 * A TLS cluster of real processes (a scheduler and 3 stores, every link mutual TLS, names limited to
 * "member" and "client"): it serves the raw and the transactional API to a client with the right
 * files, and refuses every stranger — from the command line (plain TCP, another CA, an expired
 * certificate, a name not on the allow-list) and a rogue "store" sending Raft messages — with an error
 * that says which, logged by the process refused, nothing written, the cluster serving on.
 */
import { rmSync } from "node:fs"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { fromUtf8, utf8 } from "../../src/protocol/bytes.js"
import { type ClusterTls, type LocalCluster, startLocalCluster } from "../../src/process/index.js"
import { connectStore } from "../../src/rpc/storeConnection.js"
import { loadTlsCredentials, type TlsOptions } from "../../src/rpc/tlsCredentials.js"
import { eventually } from "../../src/testing/eventually.js"
import { messages, s1, s2 } from "../transport/fixtures.js"
import { makeTestCertificates, type TestCertificates } from "../support/certificates.js"
import { assertBuilt, tinykv } from "../support/cli.js"

let certs: TestCertificates
beforeAll(async () => {
  assertBuilt()
  certs = await makeTestCertificates()
}, 60_000)
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }))

const clusterTls = (): ClusterTls => ({
  ca: certs.ca.cert,
  certificates: new Map([
    ...["scheduler", "store-1", "store-2", "store-3"].map((n) => [n, certs.member] as const),
    ["client", certs.client] as const
  ]),
  allowedCn: ["member", "client"]
})

const flags = (tls: TlsOptions | undefined): ReadonlyArray<string> =>
  tls === undefined ? [] : ["--tls-ca", tls.ca, "--tls-cert", tls.cert, "--tls-key", tls.key]

/** A process's log as text: its JSON lines (the default off a terminal) with their quotes unescaped. */
const logText = (out: string): string => out.replaceAll('\\"', '"')

const logged = (cluster: LocalCluster, name: string, pattern: RegExp, what: string) =>
  eventually(
    Effect.map(cluster.output(name), (out) => pattern.test(logText(out))),
    { what, timeout: "20 seconds", interval: "100 millis" }
  )

describe("a TLS cluster of processes", () => {
  it.scopedLive(
    "serves raw and transactional requests over mutual TLS, and refuses strangers saying which",
    () =>
      Effect.gen(function* () {
        const cluster = yield* startLocalCluster({ stores: 3, keepOutput: true, tls: clusterTls() })
        yield* cluster.waitUntilWritable("60 seconds")
        const kv = Context.get(
          yield* Layer.build(TinyKvClient.layer({ scheduler: cluster.scheduler, tls: certs.client })),
          TinyKvClient
        )

        // --- the raw and the transactional API ---
        yield* kv.rawPut("raw-key", "raw-value")
        assert.strictEqual(fromUtf8((yield* kv.rawGet("raw-key"))!), "raw-value")
        yield* kv.transact((txn) => Effect.all([txn.set(utf8("txn-a"), utf8("1")), txn.set(utf8("txn-b"), utf8("2"))]))
        const read = yield* kv.transact((txn) => Effect.all([txn.get(utf8("txn-a")), txn.get(utf8("txn-b"))]))
        assert.deepStrictEqual(
          read.map((v) => (v._tag === "Some" ? fromUtf8(v.value) : undefined)),
          ["1", "2"]
        )

        // --- the command line: with the client's files it works, each stranger is refused, saying which ---
        const target = ["--scheduler", cluster.scheduler]
        const ok = yield* Effect.promise(() =>
          tinykv(["put", "cli-key", "cli-value", ...target, ...flags(certs.client)])
        )
        assert.strictEqual(ok.code, 0, ok.stderr)
        const strangers = [
          { name: "plain", tls: undefined, error: /requires TLS/, log: /plain TCP, and this port requires TLS/ },
          { name: "rogue", tls: certs.rogue, error: /wrong CA/, log: /wrong CA/ },
          { name: "expired", tls: certs.expired, error: /expired/, log: /has expired/ },
          {
            name: "intruder",
            tls: certs.intruder,
            error: /"intruder" is not on the allow-list/,
            log: /"intruder" is not on the allow-list/
          }
        ]
        const results = yield* Effect.promise(() =>
          Promise.all(strangers.map((s) => tinykv(["put", `stranger-${s.name}`, "x", ...target, ...flags(s.tls)])))
        )
        strangers.forEach((s, i) => {
          const r = results[i]!
          assert.strictEqual(r.code, 1, `${s.name}: ${r.stdout}`)
          assert.match(r.stderr, s.error, s.name)
        })
        for (const s of strangers)
          yield* logged(cluster, "scheduler", s.log, `the scheduler's log of the ${s.name} refusal`)

        // --- a rogue "store": Raft messages (and a write) to a store, with another CA's or a stranger's certificate ---
        const store = cluster.stores[0]!
        for (const [name, tls, log] of [
          ["rogue", certs.rogue, /wrong CA/],
          ["intruder", certs.intruder, /"intruder" is not on the allow-list/]
        ] as const) {
          const credentials = yield* loadTlsCredentials(tls)
          const conn = yield* connectStore(store.address, { timeout: "5 seconds", tls: credentials })
          const raft = yield* Effect.flip(conn.call("Raft", (c) => c.Raft({ messages: messages(s2, s1, 3) })))
          assert.strictEqual(raft._tag, "StoreUnavailable", name)
          assert.match(raft.message, log, name)
          const put = yield* Effect.flip(
            conn.call("RawPut", (c) => c.RawPut({ key: utf8(`rogue-${name}`), value: utf8("rogue"), cf: "default" }))
          )
          assert.match((put as { message: string }).message, log, name)
          yield* logged(cluster, store.name, log, `${store.name}'s log of the ${name} store`)
        }

        // nothing a stranger sent was written, and the cluster serves on
        for (const key of [...strangers.map((s) => `stranger-${s.name}`), "rogue-rogue", "rogue-intruder"]) {
          assert.isUndefined(yield* kv.rawGet(key), key)
        }
        assert.strictEqual(fromUtf8((yield* kv.rawGet("cli-key"))!), "cli-value")
        yield* kv.rawPut("after", "still serving")
        assert.strictEqual(fromUtf8((yield* kv.rawGet("after"))!), "still serving")
      }).pipe(Effect.provide(NodeContext.layer)),
    180_000
  )
})
