/**
 * Runs the Rust rules (`dnas/rules`, built to `workdir/ripple_rules.wasm`) through the plain ABI described
 * in `validator.ts`: JSON in, JSON out, both buffers freed by the caller.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { repoPath } from '../../../runtime/repo-root.ts'
import type { RulesValidator, ValidationInput, ValidationOutcome } from './validator.ts'

export const DEFAULT_RULES_WASM = repoPath('workdir', 'ripple_rules.wasm')

/** The rules wasm is missing, is not the rules module, or trapped. */
export class RulesWasmError extends Error {
  static override readonly name = 'RulesWasmError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RulesWasmError'
  }
}

/** The part of the WebAssembly JS API used here: Node has it, but @types/node does not declare it. */
interface WasmMemory {
  readonly buffer: ArrayBuffer
}
type WasmModule = object
interface WasmJsApi {
  compile(bytes: Uint8Array): Promise<WasmModule>
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> }
  Memory: abstract new (...args: never[]) => WasmMemory
  RuntimeError: abstract new (...args: never[]) => Error
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmJsApi }).WebAssembly

interface RulesExports {
  memory: WasmMemory
  alloc(len: number): number
  dealloc(ptr: number, len: number): void
  validate(ptr: number, len: number): bigint
}

// Compiling is the costly part; every validator of the same file shares the compiled module.
const compiled = new Map<string, Promise<WasmModule>>()

async function compile(path: string): Promise<WasmModule> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (cause) {
    const hint = 'build it with: bash dnas/rules/scripts/build-wasm.sh'
    throw new RulesWasmError(`rules wasm not found at ${path}; ${hint}`, { cause })
  }
  try {
    return await Wasm.compile(bytes)
  } catch (cause) {
    throw new RulesWasmError(`${path} is not a valid wasm module`, { cause })
  }
}

function instantiate(module: WasmModule, path: string): RulesExports {
  const exports = new Wasm.Instance(module, {}).exports
  const { memory, alloc, dealloc, validate } = exports
  if (
    !(memory instanceof Wasm.Memory) ||
    typeof alloc !== 'function' ||
    typeof dealloc !== 'function' ||
    typeof validate !== 'function'
  ) {
    throw new RulesWasmError(
      `${path} does not export memory, alloc, dealloc and validate: is it the rules wasm?`,
    )
  }
  return exports as unknown as RulesExports
}

/** Loads the rules wasm (compiled once per file) into a fresh instance that every `validate` call reuses. */
export async function loadRulesValidator(wasmPath: string = DEFAULT_RULES_WASM): Promise<RulesValidator> {
  const path = resolve(wasmPath)
  let module = compiled.get(path)
  if (!module) {
    module = compile(path)
    compiled.set(path, module)
    // A failed load should not stick: the file may be built later.
    module.catch(() => compiled.delete(path))
  }
  const wasm = await module
  let rules = instantiate(wasm, path)
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()

  return {
    validate(input: ValidationInput): ValidationOutcome {
      const json = JSON.stringify(input)
      // UTF-8 takes at most 3 bytes per UTF-16 unit: encode straight into wasm memory, no staging copy.
      const capacity = json.length * 3
      try {
        const inPtr = rules.alloc(capacity)
        const { written } = encoder.encodeInto(json, new Uint8Array(rules.memory.buffer, inPtr, capacity))
        const packed = rules.validate(inPtr, written)
        rules.dealloc(inPtr, capacity)
        const outPtr = Number(packed >> 32n)
        const outLen = Number(packed & 0xffff_ffffn)
        // Views are taken after the calls: the memory may have grown and detached older buffers.
        const outcome = decoder.decode(new Uint8Array(rules.memory.buffer, outPtr, outLen))
        rules.dealloc(outPtr, outLen)
        return JSON.parse(outcome) as ValidationOutcome
      } catch (cause) {
        if (!(cause instanceof Wasm.RuntimeError)) throw cause
        // A trap can leave the allocator mid-operation: start over with a clean instance.
        rules = instantiate(wasm, path)
        const what = `${input.dna}/${input.entry_type} ${input.op}`
        throw new RulesWasmError(`rules wasm trapped validating a ${what}`, { cause })
      }
    },
  }
}
