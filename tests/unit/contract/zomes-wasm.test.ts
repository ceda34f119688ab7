/**
 * The zomes as compiled (`npm run build:happ`: wasm32 against hdi/hdk) export what the contract and
 * Holochain call: each coordinator every zome function of its DNA plus the callbacks and the signal
 * functions, each integrity zome `validate` and its entry and link type tables. Where the zomes are not
 * built it says so and skips.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../../host/runtime/repo-root.ts'
import {
  BROADCAST_SIGNAL_FN,
  COORDINATOR_CALLBACKS,
  contract,
  DNA_NAMES,
  SEND_SIGNAL_FN,
} from '../../../zomes-bindings/index.ts'

const RELEASE = join(REPO_ROOT, 'target', 'wasm32-unknown-unknown', 'release')
const wasmOf = (zome: string) => join(RELEASE, `${zome}.wasm`)
const missing = DNA_NAMES.flatMap((dna) => [dna, `${dna}_integrity`]).filter((z) => !existsSync(wasmOf(z)))
if (missing.length > 0)
  console.log(`skipped: zomes not built (${missing.join(', ')}): \`npm run build:happ\` builds them`)

/** The part of the WebAssembly JS API used here: Node has it, but @types/node does not declare it. */
interface WasmModuleApi {
  new (bytes: Uint8Array): object
  exports(module: object): { name: string }[]
}
const WasmModule = (globalThis as unknown as { WebAssembly: { Module: WasmModuleApi } }).WebAssembly.Module

function exportsOf(zome: string): string[] {
  return WasmModule.exports(new WasmModule(readFileSync(wasmOf(zome)))).map((e) => e.name)
}

describe.skipIf(missing.length > 0)('the zomes compiled to wasm32', () => {
  it.each(DNA_NAMES)(
    '%s: the coordinator exports every function of the contract and the callbacks',
    (dna) => {
      const wanted = [
        ...Object.keys(contract[dna].functions),
        ...COORDINATOR_CALLBACKS,
        BROADCAST_SIGNAL_FN,
        SEND_SIGNAL_FN,
      ]
      expect(wanted.filter((fn) => !exportsOf(dna).includes(fn))).toEqual([])
    },
  )

  it.each(DNA_NAMES)(
    '%s: the integrity zome exports validate, genesis_self_check and its type tables',
    (dna) => {
      expect(exportsOf(`${dna}_integrity`)).toEqual(
        // hdi exports genesis_self_check under its versioned callback name.
        expect.arrayContaining([
          'validate',
          'genesis_self_check_2',
          'entry_defs',
          '__num_entry_types',
          '__num_link_types',
        ]),
      )
    },
  )
})
