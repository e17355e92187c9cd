/**
 * Certificates for the TLS tests, made once per call with the system's openssl in a temporary
 * directory: the cluster's CA and certificates it signs (a member, a client, an expired one, one with
 * a name not on an allow-list), and a rogue CA with a certificate of its own.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { type CertificateFiles, issueCertificate, makeCertificateAuthority } from "../../src/process/certificates.js"
import type { TlsOptions } from "../../src/rpc/tlsCredentials.js"

export interface TestCertificates {
  readonly dir: string
  readonly ca: CertificateFiles
  readonly rogueCa: CertificateFiles
  /** CN "member": what the stores and the scheduler present. */
  readonly member: TlsOptions
  /** CN "client", signed by the cluster's CA. */
  readonly client: TlsOptions
  /** CN "client", expired yesterday. */
  readonly expired: TlsOptions
  /** CN "intruder", signed by the cluster's CA (refused when the allow-list names only member and client). */
  readonly intruder: TlsOptions
  /** CN "client", signed by the rogue CA; it trusts the cluster's CA (so only the listener can refuse). */
  readonly rogue: TlsOptions
  /** The client's own certificate, but trusting only the rogue CA: it refuses the listener's certificate. */
  readonly distrustful: TlsOptions
  /** Issues another certificate signed by the cluster's CA into `dir/<name>`. */
  readonly issue: (name: string, commonName: string, days?: number) => Promise<CertificateFiles>
}

const HOSTS = ["127.0.0.1", "localhost"]

export const makeTestCertificates = async (): Promise<TestCertificates> => {
  const dir = mkdtempSync(join(tmpdir(), "tinykv-tls-"))
  const run = <A, E>(effect: Effect.Effect<A, E, NodeContext.NodeContext>) =>
    Effect.runPromise(Effect.provide(effect, NodeContext.layer))
  const ca = await run(makeCertificateAuthority({ dir, name: "ca", commonName: "test CA" }))
  const rogueCa = await run(makeCertificateAuthority({ dir, name: "rogue-ca", commonName: "rogue CA" }))
  const issue = (name: string, commonName: string, days?: number, by = ca) =>
    run(issueCertificate({ dir, name, ca: by, commonName, hosts: HOSTS, days }))
  const files = (f: CertificateFiles, caCert = ca.cert): TlsOptions => ({ ca: caCert, cert: f.cert, key: f.key })
  return {
    dir,
    ca,
    rogueCa,
    member: files(await issue("member", "member")),
    client: files(await issue("client", "client")),
    expired: files(await issue("expired", "client", -1)),
    intruder: files(await issue("intruder", "intruder")),
    rogue: files(await issue("rogue", "client", 30, rogueCa)),
    distrustful: { ...files(await issue("distrustful", "client")), ca: rogueCa.cert },
    issue: (name, commonName, days) => issue(name, commonName, days)
  }
}
