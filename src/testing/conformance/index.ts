/** Conformance suites: the contract of each service as tests, to run on every layer (yours too). */
export * from "./storage.js"
export * from "./kvStorage.js"
export * from "./schedulerClient.js"
export * from "./transport.js"
export * from "./tso.js"
