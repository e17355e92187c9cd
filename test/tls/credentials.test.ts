/**
 * Loading and reloading TLS files: a bad set at start is a `TlsConfigError` that names the file; a
 * changed set is picked up by `current()` and announced to `onReload` listeners; a half-changed set
 * (a certificate without its key) is reported once and the previous set stays in use until the set is
 * whole again.
 */
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import { loadTlsCredentials, type TlsOptions } from "../../src/rpc/tlsCredentials.js"
import { eventually } from "../../src/testing/eventually.js"
import { makeTestCertificates, type TestCertificates } from "../support/certificates.js"

let certs: TestCertificates
beforeAll(async () => {
  certs = await makeTestCertificates()
}, 60_000)
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }))

const replace = (from: string, to: string) => {
  copyFileSync(from, `${to}.next`)
  renameSync(`${to}.next`, to)
}

describe("TLS credentials", () => {
  it.scoped("files that cannot be read or do not belong together fail the load, naming them", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.flip(loadTlsCredentials({ ...certs.client, ca: join(certs.dir, "nope.crt") }))
      assert.strictEqual(missing._tag, "TlsConfigError")
      assert.match(missing.message, /cannot read the TLS CA file .*nope\.crt: ENOENT/)
      const mismatched = yield* Effect.flip(loadTlsCredentials({ ...certs.client, key: certs.intruder.key }))
      assert.match(mismatched.message, /do not make a usable set/)
    })
  )

  it.scopedLive("a changed set is reloaded; a half-changed one is reported once and the old set kept", () => {
    const lines: Array<string> = []
    return Effect.gen(function* () {
      const dir = mkdtempSync(join(certs.dir, "live-"))
      const files: TlsOptions = { ca: join(dir, "ca.crt"), cert: join(dir, "c.crt"), key: join(dir, "c.key") }
      replace(certs.client.ca, files.ca)
      replace(certs.client.cert, files.cert)
      replace(certs.client.key, files.key)
      const credentials = yield* loadTlsCredentials({ ...files, reloadInterval: "20 millis" })
      const announced: Array<Buffer> = []
      yield* credentials.onReload((loaded) => void announced.push(loaded.cert))
      const original = credentials.current().cert
      assert.deepStrictEqual(original, readFileSync(certs.client.cert))

      // the certificate alone: not a usable set
      replace(certs.intruder.cert, files.cert)
      yield* eventually(
        Effect.sync(() => lines.some((l) => l.includes("the changed files were not loaded"))),
        { what: "the half-changed set to be reported" }
      )
      assert.deepStrictEqual(credentials.current().cert, original)
      assert.strictEqual(announced.length, 0)

      // its key too: reloaded
      replace(certs.intruder.key, files.key)
      yield* eventually(
        Effect.sync(() => announced.length === 1),
        { what: "the whole set to be reloaded" }
      )
      assert.deepStrictEqual(credentials.current().cert, readFileSync(certs.intruder.cert))
      assert.deepStrictEqual(announced[0], readFileSync(certs.intruder.cert))
      assert.strictEqual(lines.filter((l) => l.includes("the changed files were not loaded")).length, 1)
      assert.strictEqual(lines.filter((l) => l.includes("TLS: certificates reloaded")).length, 1)
    }).pipe(Effect.provide(Logger.add(Logger.make(({ message }) => void lines.push(String(message))))))
  })
})
