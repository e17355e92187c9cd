/**
 * A TLS store in-process, and each kind of client it must refuse: plain TCP, a certificate of another
 * CA, an expired certificate, a name not on the allow-list; and a client that refuses the store's
 * certificate. Each refusal reaches the client as an error that says which, is logged by the store,
 * writes nothing, and leaves the store serving the others.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { rmSync } from "node:fs"
import { Context, Effect, Layer, Logger } from "effect"
import { describeError } from "../../src/client/errors.js"
import { TinyKvClient } from "../../src/client/TinyKvClient.js"
import type { TlsOptions } from "../../src/rpc/tlsCredentials.js"
import { fromUtf8 } from "../../src/protocol/bytes.js"
import { eventually } from "../../src/testing/eventually.js"
import { makeTestCertificates, type TestCertificates } from "../support/certificates.js"
import { startStandalone } from "../support/standalone.js"

let certs: TestCertificates
beforeAll(async () => {
  certs = await makeTestCertificates()
}, 60_000)
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }))

/** The store's log lines, captured. */
const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ message }) => {
    lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
  })
  return { lines, layer: Logger.add(logger) }
}

const client = (address: string, tls: TlsOptions | undefined) =>
  TinyKvClient.layer({ store: address, timeout: "3 seconds", ...(tls === undefined ? {} : { tls }) })

/** Tries one write with `tls`; the error's description, or "ok". */
const tryPut = (address: string, tls: TlsOptions | undefined, key: string) =>
  Effect.flatMap(TinyKvClient, (kv) => kv.rawPut(key, "written")).pipe(
    Effect.provide(client(address, tls)),
    Effect.match({ onFailure: describeError, onSuccess: () => "ok" })
  )

describe("TLS refusals (in-process standalone store)", () => {
  it.scopedLive(
    "serves a client with a certificate of the cluster's CA, and refuses each other kind, saying which",
    () => {
      const logs = captureLogs()
      return Effect.gen(function* () {
        const { address } = yield* startStandalone(undefined, { ...certs.member, allowedCn: ["member", "client"] })
        // a good client, connected before and used after the refusals: they must not disturb it
        const good = Context.get(yield* Layer.build(client(address, certs.client)), TinyKvClient)
        yield* good.rawPut("before", "1")

        const cases: ReadonlyArray<{
          name: string
          tls: TlsOptions | undefined
          client: RegExp
          server: RegExp | undefined
        }> = [
          { name: "plain", tls: undefined, client: /requires TLS/, server: /plain TCP/ },
          { name: "rogue", tls: certs.rogue, client: /wrong CA/, server: /wrong CA/ },
          { name: "expired", tls: certs.expired, client: /expired/, server: /expired/ },
          {
            name: "intruder",
            tls: certs.intruder,
            client: /"intruder" is not on the allow-list/,
            server: /"intruder" is not on the allow-list/
          },
          {
            name: "distrustful",
            tls: certs.distrustful,
            client: /refused the listener.*wrong CA/,
            server: /handshake with .* failed: the client closed/
          }
        ]
        for (const c of cases) {
          const outcome = yield* tryPut(address, c.tls, `key-${c.name}`)
          assert.match(outcome, c.client, `${c.name}: ${outcome}`)
          if (c.server !== undefined) {
            const server = c.server
            yield* eventually(
              Effect.sync(() => logs.lines.some((l) => l.startsWith("TLS: ") && server.test(l))),
              { what: `the store's log of the ${c.name} refusal`, timeout: "10 seconds" }
            )
          }
        }
        // nothing a refused client sent was written, and the store still serves
        for (const c of cases) assert.isUndefined(yield* good.rawGet(`key-${c.name}`), c.name)
        yield* good.rawPut("after", "2")
        assert.strictEqual(fromUtf8((yield* good.rawGet("before"))!), "1")
        assert.strictEqual(fromUtf8((yield* good.rawGet("after"))!), "2")
      }).pipe(Effect.provide(logs.layer))
    },
    60_000
  )

  it.scopedLive("a TLS client dialling a plain-TCP store is told the store does not speak TLS", () =>
    Effect.gen(function* () {
      const { address } = yield* startStandalone()
      const outcome = yield* tryPut(address, certs.client, "key-tls-to-plain")
      assert.match(outcome, /closed the connection during the handshake \(is it serving without TLS\?\)/)
    })
  )
})
