/** Writes small GGUF v3 files for tests: metadata plus F32 tensors (contents are zeros). */

type MetaValue = { u32: number } | { f32: number } | { str: string } | { strs: string[] }

export interface GgufSpec {
  metadata: Record<string, MetaValue>
  tensors: { name: string; dims: number[] }[]
}

const ALIGNMENT = 32

export function llamaSpec(overrides: Partial<Record<string, MetaValue | undefined>> = {}): GgufSpec {
  const metadata: Record<string, MetaValue | undefined> = {
    'general.architecture': { str: 'llama' },
    'general.name': { str: 'tiny test model' },
    'general.file_type': { u32: 0 },
    'llama.context_length': { u32: 128 },
    'llama.embedding_length': { u32: 8 },
    'llama.block_count': { u32: 1 },
    'llama.feed_forward_length': { u32: 16 },
    'llama.attention.head_count': { u32: 2 },
    'llama.attention.layer_norm_rms_epsilon': { f32: 1e-5 },
    'tokenizer.ggml.model': { str: 'llama' },
    'tokenizer.ggml.tokens': { strs: ['<unk>', '<s>', '</s>', 'a'] },
    ...overrides,
  }
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata).filter((e): e is [string, MetaValue] => e[1] !== undefined),
    ),
    tensors: [
      { name: 'token_embd.weight', dims: [8, 4] },
      { name: 'output_norm.weight', dims: [8] },
    ],
  }
}

export function writeGguf(spec: GgufSpec): Buffer {
  const parts: Buffer[] = []
  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n)
    parts.push(b)
  }
  const u64 = (n: number) => {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(BigInt(n))
    parts.push(b)
  }
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'utf8')
    u64(bytes.length)
    parts.push(bytes)
  }
  parts.push(Buffer.from('GGUF'))
  u32(3)
  u64(spec.tensors.length)
  u64(Object.keys(spec.metadata).length)
  for (const [key, value] of Object.entries(spec.metadata)) {
    str(key)
    if ('u32' in value) {
      u32(4)
      u32(value.u32)
    } else if ('f32' in value) {
      u32(6)
      const b = Buffer.alloc(4)
      b.writeFloatLE(value.f32)
      parts.push(b)
    } else if ('str' in value) {
      u32(8)
      str(value.str)
    } else {
      u32(9)
      u32(8)
      u64(value.strs.length)
      for (const s of value.strs) str(s)
    }
  }
  let offset = 0
  const sizes: number[] = []
  for (const tensor of spec.tensors) {
    str(tensor.name)
    u32(tensor.dims.length)
    for (const d of tensor.dims) u64(d)
    u32(0) // F32
    u64(offset)
    const bytes = tensor.dims.reduce((a, b) => a * b, 1) * 4
    sizes.push(bytes)
    offset += Math.ceil(bytes / ALIGNMENT) * ALIGNMENT
  }
  const header = Buffer.concat(parts)
  const padded = Math.ceil(header.length / ALIGNMENT) * ALIGNMENT
  return Buffer.concat([header, Buffer.alloc(padded - header.length), Buffer.alloc(offset)])
}
