/**
 * Runs the Rust rules (`dnas/rules`, built to `workdir/ripple_rules.wasm`) through the plain ABI described
 * in `validator.ts`: JSON in, JSON out, both buffers freed by the caller.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RulesValidator, ValidationInput, ValidationOutcome } from './validator.ts'

export const DEFAULT_RULES_WASM = fileURLToPath(
  new URL('../../../../workdir/ripple_rules.wasm', import.meta.url),
)

/** The rules wasm is missing, is not the rules module, or trapped. */
export class RulesWasmError extends Error {
  static override readonly name = 'RulesWasmError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RulesWasmError'
  }
}

interface RulesExports {
  memory: WebAssembly.Memory
  alloc(len: number): number
  dealloc(ptr: number, len: number): void
  validate(ptr: number, len: number): bigint
}

// Compiling is the costly part; every validator of the same file shares the compiled module.
const compiled = new Map<string, Promise<WebAssembly.Module>>()

async function compile(path: string): Promise<WebAssembly.Module> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (cause) {
    throw new RulesWasmError(
      `rules wasm not found at ${path}; build it with: bash dnas/rules/scripts/build-wasm.sh`,
      {
        cause,
      },
    )
  }
  try {
    return await WebAssembly.compile(bytes)
  } catch (cause) {
    throw new RulesWasmError(`${path} is not a valid wasm module`, { cause })
  }
}

function instantiate(module: WebAssembly.Module, path: string): RulesExports {
  const exports = new WebAssembly.Instance(module, {}).exports
  const { memory, alloc, dealloc, validate } = exports
  if (
    !(memory instanceof WebAssembly.Memory) ||
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
      const bytes = encoder.encode(JSON.stringify(input))
      try {
        const inPtr = rules.alloc(bytes.length)
        new Uint8Array(rules.memory.buffer, inPtr, bytes.length).set(bytes)
        const packed = rules.validate(inPtr, bytes.length)
        rules.dealloc(inPtr, bytes.length)
        const outPtr = Number(packed >> 32n)
        const outLen = Number(packed & 0xffff_ffffn)
        // Views are taken after the calls: the memory may have grown and detached older buffers.
        const json = decoder.decode(new Uint8Array(rules.memory.buffer, outPtr, outLen))
        rules.dealloc(outPtr, outLen)
        return JSON.parse(json) as ValidationOutcome
      } catch (cause) {
        if (!(cause instanceof WebAssembly.RuntimeError)) throw cause
        // A trap can leave the allocator mid-operation: start over with a clean instance.
        rules = instantiate(wasm, path)
        throw new RulesWasmError(
          `rules wasm trapped validating a ${input.dna}/${input.entry_type} ${input.op}`,
          {
            cause,
          },
        )
      }
    },
  }
}
