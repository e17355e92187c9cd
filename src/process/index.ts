/** Local clusters of real `tinykv` processes: the playground, the process tests and the benchmark. */
export { type Child, type ChildOptions, describeExit, type ExitStatus, startChild } from "./child.js"
export { ChildNotReady, ClusterNotWritable } from "./errors.js"
export {
  CertificateError,
  type CertificateFiles,
  issueCertificate,
  type LocalCertificates,
  makeCertificateAuthority,
  makeLocalCertificates
} from "./certificates.js"
export { type ClusterLayout, type ClusterTls, type StoreLayout, schedulerArgs, storeArgs, tlsArgs } from "./layout.js"
export { type LocalCluster, type LocalClusterOptions, startLocalCluster } from "./localCluster.js"
export { freePort } from "./ports.js"
export { waitUntilWritable } from "./readiness.js"
