/**
 * Throwaway certificates for local clusters and tests, made with the system's `openssl`: a CA, and
 * certificates it signs for the cluster's members and clients (EC P-256). Each certificate is valid
 * as a server and as a client (mutual TLS: every member is both), and names the hosts it serves as
 * subject-alternative names, which is what a dial checks. Not for production: the CA's key sits next
 * to its certificate.
 */
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { Command, FileSystem } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import { Data, Effect, Stream } from "effect"
import * as net from "node:net"

export class CertificateError extends Data.TaggedError("CertificateError")<{ readonly message: string }> {}

/** A certificate and its key, as files. */
export interface CertificateFiles {
  readonly cert: string
  readonly key: string
}

type Needs = CommandExecutor | FileSystem.FileSystem

const openssl = (args: ReadonlyArray<string>): Effect.Effect<void, CertificateError, CommandExecutor> =>
  Effect.scoped(
    Effect.gen(function* () {
      const proc = yield* Command.start(Command.make("openssl", ...args))
      const [stderr, , code] = yield* Effect.all(
        [Stream.mkString(Stream.decodeText(proc.stderr)), Stream.runDrain(proc.stdout), proc.exitCode],
        { concurrency: "unbounded" }
      )
      if (code !== 0) {
        return yield* new CertificateError({ message: `openssl ${args[0]} failed (exit ${code}): ${stderr.trim()}` })
      }
    })
  ).pipe(
    Effect.catchIf(
      (e) => e._tag !== "CertificateError",
      (e) =>
        new CertificateError({
          message: `cannot run the system's openssl (install it, e.g. apt-get install openssl): ${e.message}`
        })
    )
  )

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

/** A self-signed CA in `dir/<name>.crt` and `dir/<name>.key`. */
export const makeCertificateAuthority = (options: {
  readonly dir: string
  readonly name: string
  readonly commonName: string
  readonly days?: number | undefined
}): Effect.Effect<CertificateFiles, CertificateError, Needs> =>
  Effect.gen(function* () {
    const cert = join(options.dir, `${options.name}.crt`)
    const key = join(options.dir, `${options.name}.key`)
    yield* makeDir(options.dir)
    yield* openssl([
      "req",
      "-x509",
      ...EC,
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      String(options.days ?? 3650),
      "-subj",
      `/CN=${options.commonName}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign"
    ])
    return { cert, key }
  })

/**
 * A certificate for `commonName` signed by `ca`, in `dir/<name>.crt` and `dir/<name>.key`, naming
 * `hosts` (IP addresses or DNS names) as the addresses it serves. `days` may be negative: an expired
 * certificate, for tests.
 */
export const issueCertificate = (options: {
  readonly dir: string
  readonly name: string
  readonly ca: CertificateFiles
  readonly commonName: string
  readonly hosts: ReadonlyArray<string>
  readonly days?: number | undefined
}): Effect.Effect<CertificateFiles, CertificateError, Needs> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const cert = join(options.dir, `${options.name}.crt`)
    const key = join(options.dir, `${options.name}.key`)
    const csr = join(options.dir, `${options.name}.csr`)
    const ext = join(options.dir, `${options.name}.ext`)
    yield* makeDir(options.dir)
    const names = options.hosts.map((h) => (net.isIP(h) === 0 ? `DNS:${h}` : `IP:${h}`)).join(",")
    yield* fs
      .writeFileString(
        ext,
        [
          "basicConstraints=CA:FALSE",
          "keyUsage=critical,digitalSignature,keyEncipherment",
          "extendedKeyUsage=serverAuth,clientAuth",
          ...(names === "" ? [] : [`subjectAltName=${names}`])
        ].join("\n")
      )
      .pipe(Effect.mapError((e) => new CertificateError({ message: e.message })))
    yield* openssl(["req", "-new", ...EC, "-keyout", key, "-out", csr, "-subj", `/CN=${options.commonName}`])
    yield* openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      options.ca.cert,
      "-CAkey",
      options.ca.key,
      "-set_serial",
      `0x${randomBytes(8).toString("hex")}`,
      "-days",
      String(options.days ?? 825),
      "-extfile",
      ext,
      "-out",
      cert
    ])
    yield* Effect.all([fs.remove(csr), fs.remove(ext)]).pipe(Effect.ignore)
    return { cert, key }
  })

const makeDir = (dir: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeDirectory(dir, { recursive: true })).pipe(
    Effect.mapError((e) => new CertificateError({ message: e.message }))
  )

/** The files a local cluster's members and its client use: one CA, one certificate per name. */
export interface LocalCertificates {
  readonly ca: string
  readonly members: ReadonlyMap<string, CertificateFiles>
}

/**
 * A CA in `dir` and one certificate per name in `names` (its common name is the name), each serving
 * `hosts` (loopback by default).
 */
export const makeLocalCertificates = (options: {
  readonly dir: string
  readonly names: ReadonlyArray<string>
  readonly hosts?: ReadonlyArray<string> | undefined
}): Effect.Effect<LocalCertificates, CertificateError, Needs> =>
  Effect.gen(function* () {
    const ca = yield* makeCertificateAuthority({ dir: options.dir, name: "ca", commonName: "tinykv playground CA" })
    const hosts = options.hosts ?? ["127.0.0.1", "localhost"]
    const members = new Map<string, CertificateFiles>()
    for (const name of options.names) {
      members.set(name, yield* issueCertificate({ dir: options.dir, name, ca, commonName: name, hosts }))
    }
    return { ca: ca.cert, members }
  })
