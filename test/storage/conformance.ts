/** The Storage suite now lives in `tinykv/testing` (so users can run it on their own engines). */
export {
  type StorageEngineUnderTest as Engine,
  storageConformance,
  storageSuite
} from "../../src/testing/conformance/storage.js"
