/** `tinykv/testing`: run a whole cluster in one process, with faults, for tests and simulation. */
export * from "./TestCluster.js"
export * as Filters from "../layers/transportFilters.js"
export { MemoryNetwork } from "../layers/transportMemory.js"
export * from "./eventually.js"
export * from "./conformance/index.js"
export * from "./clusterAdmin.js"
