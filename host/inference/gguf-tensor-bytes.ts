/**
 * Bytes a GGUF tensor occupies in the file, from ggml's type traits (block size, bytes per block).
 * Used to spot truncated downloads before llama.cpp maps the file: a tensor that would end past
 * the end of the file means the download stopped early.
 */
import type { GgufTensorInfo } from 'node-llama-cpp'

// [elements per block, bytes per block], keyed by ggml type id (ggml.c `type_traits`).
// Types missing here (rare i-quants, repacked layouts) are only checked for their start offset.
const GGML_TYPE_BLOCKS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [0, [1, 4]], // F32
  [1, [1, 2]], // F16
  [2, [32, 18]], // Q4_0
  [3, [32, 20]], // Q4_1
  [6, [32, 22]], // Q5_0
  [7, [32, 24]], // Q5_1
  [8, [32, 34]], // Q8_0
  [9, [32, 36]], // Q8_1
  [10, [256, 84]], // Q2_K
  [11, [256, 110]], // Q3_K
  [12, [256, 144]], // Q4_K
  [13, [256, 176]], // Q5_K
  [14, [256, 210]], // Q6_K
  [15, [256, 292]], // Q8_K
  [20, [32, 18]], // IQ4_NL
  [23, [256, 136]], // IQ4_XS
  [24, [1, 1]], // I8
  [25, [1, 2]], // I16
  [26, [1, 4]], // I32
  [27, [1, 8]], // I64
  [28, [1, 8]], // F64
  [30, [1, 2]], // BF16
])

export function tensorElements(tensor: GgufTensorInfo): number {
  return tensor.dimensions.reduce<number>((product, dim) => product * Number(dim), 1)
}

/** Size of the tensor's data in bytes, or null for a type this table does not know. */
export function tensorBytes(tensor: GgufTensorInfo): number | null {
  const block = GGML_TYPE_BLOCKS.get(tensor.ggmlType)
  if (!block) return null
  const [elementsPerBlock, bytesPerBlock] = block
  return Math.ceil(tensorElements(tensor) / elementsPerBlock) * bytesPerBlock
}
