import { layerMemory } from "../../src/layers/storageMemory.js"
import { storageSuite } from "./conformance.js"

storageSuite({ name: "memory", fresh: () => ({ layer: layerMemory }) })
