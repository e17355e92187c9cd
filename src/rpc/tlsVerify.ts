/**
 * What a failed certificate check means, in words an operator can act on, for both ends of a TLS
 * link: a listener checking the certificate of whoever connects, and a dial checking the listener's.
 * Node reports OpenSSL's verification result as a code (`CERT_HAS_EXPIRED`, …); the wording keeps the
 * code at the end so it can still be searched for.
 */
import type * as tls from "node:tls"

/** The verification codes that mean "not signed by a CA we trust". */
const WRONG_CA = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE"
])

/** One verification code, as a reason: "its certificate has expired (CERT_HAS_EXPIRED)". */
export const describeVerifyError = (code: string): string => {
  if (code === "CERT_HAS_EXPIRED") return `its certificate has expired (${code})`
  if (code === "CERT_NOT_YET_VALID") return `its certificate is not valid yet (${code})`
  if (WRONG_CA.has(code)) return `its certificate is not signed by this cluster's CA: wrong CA (${code})`
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `its certificate does not name the address dialled (${code})`
  return `its certificate was not accepted (${code})`
}

/** True for the codes `describeVerifyError` words: errors of certificate verification, not of the network. */
export const isVerifyError = (code: string | undefined): boolean =>
  code !== undefined &&
  (WRONG_CA.has(code) ||
    code === "CERT_HAS_EXPIRED" ||
    code === "CERT_NOT_YET_VALID" ||
    code === "ERR_TLS_CERT_ALTNAME_INVALID" ||
    code.startsWith("CERT_"))

export type PeerCheck =
  | { readonly _tag: "Accepted"; readonly commonName: string }
  | { readonly _tag: "Refused"; readonly reason: string }

/**
 * The listener's check of a connection whose handshake finished: a certificate was presented, it
 * verifies against the CA (chain and dates), and its common name is on the allow-list when there is
 * one. The socket must have been made with `requestCert: true, rejectUnauthorized: false`, so this
 * check — not the handshake — decides, and the refusal can say why.
 */
export const checkPeerCertificate = (socket: tls.TLSSocket, allowedCn: ReadonlySet<string> | undefined): PeerCheck => {
  const cert = socket.getPeerCertificate()
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) {
    return {
      _tag: "Refused",
      reason: "it presented no certificate (mutual TLS: every client and peer needs one signed by the cluster's CA)"
    }
  }
  const cn = typeof cert.subject?.CN === "string" ? cert.subject.CN : ""
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? "UNKNOWN")
    return { _tag: "Refused", reason: `${describeVerifyError(code)}, CN "${cn}"` }
  }
  if (allowedCn !== undefined && !allowedCn.has(cn)) {
    return {
      _tag: "Refused",
      reason: `its certificate name CN "${cn}" is not on the allow-list (${[...allowedCn].join(",")})`
    }
  }
  return { _tag: "Accepted", commonName: cn }
}
