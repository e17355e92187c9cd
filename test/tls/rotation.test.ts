/**
 * Certificate rotation without a restart, under load: a TLS cluster of processes moves from one CA
 * to another while clients write and read without pause and new clients keep connecting. The three
 * steps operators take — trust both CAs, switch every certificate to the new CA, trust only the new
 * one — are each a change of files that every process (and the client) picks up by itself; each step
 * waits until every listener shows it to a new handshake. No request
 * fails; at the end every listener presents a certificate of the new CA and a client of the old CA
 * is refused.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as tls from "node:tls"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Logger, LogLevel } from "effect"
import { describeError } from "../../src/client/errors.js"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import {
  type CertificateFiles,
  type ClusterTls,
  issueCertificate,
  makeCertificateAuthority,
  startLocalCluster
} from "../../src/process/index.js"
import { parseAddress } from "../../src/rpc/address.js"
import type { TlsFiles, TlsOptions } from "../../src/rpc/tlsCredentials.js"
import { AdmissionReader } from "../../src/rpc/tlsAdmission.js"
import { eventually } from "../../src/testing/eventually.js"
import { makeTestCertificates, type TestCertificates } from "../support/certificates.js"
import { assertBuilt } from "../support/cli.js"

let certs: TestCertificates
beforeAll(async () => {
  assertBuilt()
  certs = await makeTestCertificates()
}, 60_000)
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }))

const NAMES = ["scheduler", "store-1", "store-2", "store-3", "client"]
const HOSTS = ["127.0.0.1", "localhost"]

/** Replaces `target` in one step (a rename), as a careful operator or a secrets agent does. */
const replace = (target: string, content: Buffer | string) => {
  writeFileSync(`${target}.next`, content)
  renameSync(`${target}.next`, target)
}

/** What a new handshake with the listener at `address` shows: the issuer of its certificate, and whether it admits `client`. */
const probe = (address: string, client: TlsFiles) =>
  Effect.async<{ readonly issuer: string; readonly admitted: boolean }, Error>((resume) => {
    const { host, port } = parseAddress(address)
    const socket = tls.connect({
      host,
      port,
      ca: readFileSync(client.ca),
      cert: readFileSync(client.cert),
      key: readFileSync(client.key)
    })
    const reader = new AdmissionReader()
    let issuer = ""
    socket.once("secureConnect", () => {
      issuer = String(socket.getPeerCertificate().issuer.CN)
    })
    socket.on("data", (chunk: Buffer) => {
      const read = reader.push(chunk)
      if (read === undefined) return
      resume(Effect.succeed({ issuer, admitted: read.admission._tag === "Admitted" }))
      socket.destroy()
    })
    socket.once("error", (e) => resume(Effect.fail(e)))
    socket.once("close", () => resume(Effect.fail(new Error(`${address} closed before its admission frame`))))
    return Effect.sync(() => socket.destroy())
  })

describe("TLS certificate rotation", () => {
  it.scopedLive(
    "moves a cluster of processes to a new CA under load, without a restart and without a failed request",
    () => {
      const clientLogs: Array<string> = []
      const logger = Logger.add(Logger.make(({ message }) => void clientLogs.push(String(message))))
      return Effect.gen(function* () {
        const live = join(certs.dir, "live")
        const next = join(certs.dir, "next")
        const ca1 = certs.ca
        const ca2 = yield* makeCertificateAuthority({ dir: certs.dir, name: "ca2", commonName: "CA 2" })
        mkdirSync(live, { recursive: true })
        const caFile = join(live, "ca.pem")
        replace(caFile, readFileSync(ca1.cert))
        const files = new Map<string, CertificateFiles>()
        for (const name of NAMES) {
          files.set(name, yield* issueCertificate({ dir: live, name, ca: ca1, commonName: name, hosts: HOSTS }))
        }
        const clusterTls: ClusterTls = { ca: caFile, certificates: files }
        const cluster = yield* startLocalCluster({ stores: 3, keepOutput: true, tls: clusterTls })
        yield* cluster.waitUntilWritable("60 seconds")
        const clientFiles: TlsOptions = { ca: caFile, ...files.get("client")!, reloadInterval: "200 millis" }
        const kv = Context.get(
          yield* Layer.build(TinyKvClient.layer({ scheduler: cluster.scheduler, tls: clientFiles })),
          TinyKvClient
        )

        // --- the load: 8 writers/readers on one client, and a stream of new clients (new handshakes) ---
        const failures: Array<string> = []
        let ops = 0
        let stop = false
        const record = <A, E>(effect: Effect.Effect<A, E>) =>
          effect.pipe(
            Effect.tap(() => Effect.sync(() => void ops++)),
            Effect.catchAll((e) => Effect.sync(() => void failures.push(describeError(e))))
          )
        const worker = (w: number) =>
          Effect.gen(function* () {
            for (let i = 0; !stop; i++) {
              const key = `w${w}-${i % 50}`
              yield* record(kv.rawPut(key, `${i}`))
              yield* record(
                Effect.flatMap(kv.rawGet(key), (v) =>
                  v !== undefined && fromUtf8(v) === `${i}` ? Effect.void : Effect.fail(`read ${key}: wrong value`)
                )
              )
            }
          })
        // NB: silent, so the reloads counted are the long-lived client's and not a newcomer's
        const newcomer = Effect.gen(function* () {
          for (let i = 0; !stop; i++) {
            yield* record(
              Effect.flatMap(TinyKvClient, (c) => c.rawPut(`new-${i}`, "x")).pipe(
                Effect.provide(TinyKvClient.layer({ scheduler: cluster.scheduler, tls: clientFiles }))
              )
            )
          }
        }).pipe(Logger.withMinimumLogLevel(LogLevel.None))
        const load = yield* Effect.fork(
          Effect.all([...Array.from({ length: 8 }, (_, w) => worker(w)), newcomer], { concurrency: "unbounded" })
        )

        // NB: a process holds one set of credentials per listener (RPC and status), each logging its
        // reloads, so progress is read from what the RPC listeners show a new handshake; only the
        // client's reloads are counted
        const clientReloads = (n: number) =>
          eventually(
            Effect.sync(() => clientLogs.filter((l) => l.includes("TLS: certificates reloaded")).length >= n),
            { what: `the client to reload its certificates (${n})`, timeout: "30 seconds", interval: "100 millis" }
          )
        const bothCas = join(certs.dir, "both-cas.pem")
        writeFileSync(bothCas, Buffer.concat([readFileSync(ca1.cert), readFileSync(ca2.cert)]))
        const prober1: TlsFiles = { ...certs.client, ca: bothCas }
        const prober2: TlsFiles = {
          ...(yield* issueCertificate({
            dir: certs.dir,
            name: "prober2",
            ca: ca2,
            commonName: "client",
            hosts: HOSTS
          })),
          ca: bothCas
        }
        const listeners = () => [cluster.scheduler, ...cluster.stores.map((s) => s.address)]
        /** Waits until every RPC listener shows `check` to a new handshake by `client`. */
        const everyListener = (
          what: string,
          client: TlsFiles,
          check: (shown: { readonly issuer: string; readonly admitted: boolean }) => boolean
        ) =>
          eventually(
            Effect.forEach(listeners(), (address) => Effect.map(probe(address, client), check)).pipe(
              Effect.map((oks) => oks.every((ok) => ok)),
              Effect.orElseSucceed(() => false)
            ),
            { what: `every listener to ${what}`, timeout: "30 seconds", interval: "100 millis" }
          )
        // let the load run on the old certificates first
        yield* eventually(
          Effect.sync(() => ops >= 200),
          { what: "200 requests", timeout: "30 seconds" }
        )

        // 1. trust both CAs: every member admits a certificate of the new CA, and the client trusts it
        replace(caFile, Buffer.concat([readFileSync(ca1.cert), readFileSync(ca2.cert)]))
        yield* everyListener("admit a certificate of the new CA", prober2, (shown) => shown.admitted)
        yield* clientReloads(1)
        // 2. every certificate now signed by the new CA (key first, then certificate: a half-done pair is skipped)
        for (const name of NAMES) {
          const fresh = yield* issueCertificate({ dir: next, name, ca: ca2, commonName: name, hosts: HOSTS })
          replace(files.get(name)!.key, readFileSync(fresh.key))
          replace(files.get(name)!.cert, readFileSync(fresh.cert))
        }
        // (a member dials with the credentials its listener shows, so this covers its dials too)
        yield* everyListener("present a certificate of the new CA", prober2, (shown) => shown.issuer === "CA 2")
        yield* clientReloads(2)
        // 3. trust only the new CA
        replace(caFile, readFileSync(ca2.cert))
        yield* everyListener("refuse a certificate of the old CA", prober1, (shown) => !shown.admitted)
        yield* clientReloads(3)
        const before = ops
        yield* eventually(
          Effect.sync(() => ops >= before + 200),
          { what: "200 more requests", timeout: "30 seconds" }
        )
        stop = true
        yield* Fiber.join(load)

        assert.deepStrictEqual(failures, [], `failed requests during the rotation (${ops} succeeded)`)
        // every listener now presents the new CA's certificate, and a client of the old CA is refused
        for (const address of listeners()) {
          assert.strictEqual((yield* probe(address, { ca: caFile, ...files.get("client")! })).issuer, "CA 2")
        }
        const old = yield* Effect.flatMap(TinyKvClient, (c) => c.rawGet("w0-0")).pipe(
          Effect.provide(
            TinyKvClient.layer({ scheduler: cluster.scheduler, tls: certs.client, deadline: "3 seconds" })
          ),
          Effect.flip
        )
        assert.match(describeError(old), /wrong CA/)
      }).pipe(Effect.provide(Layer.merge(NodeContext.layer, logger)))
    },
    240_000
  )
})
