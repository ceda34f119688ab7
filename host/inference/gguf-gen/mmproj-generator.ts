/**
 * Generates a multimodal projector (`<name>.mmproj.gguf`) with random weights that llama.cpp's
 * multimodal library (tools/mtmd, clip.cpp) loads beside a generated text model: a LLaVA-style CLIP
 * vision tower (patch embedding, position embedding, pre-norm transformer blocks) and the `mlp`
 * projector (`mm.0`, GELU, `mm.2`) whose output width is the text model's embedding width, as mtmd
 * checks at load. Keys and tensor names are those clip.cpp reads (clip-impl.h, llama.cpp v0.5.0).
 * An image becomes (image size / patch size)² embeddings in the prompt; the answer is gibberish.
 */
import { type GgufSpec, type TensorSpec, writeGgufFile } from './gguf-writer.ts'
import { uniformFill } from './llama-generator.ts'

export interface ProjectorOptions {
  /** The text model's embedding width (n_embd): the projector's output. */
  textEmbedding: number
  /** Default 1. */
  seed?: number
  /** Pixels per side the image is resized to; default 32. */
  imageSize?: number
  /** Pixels per side of a patch; default 8 (so 16 patches, 16 prompt tokens, per image). */
  patchSize?: number
  /** The vision tower's width; default 32. */
  embedding?: number
  /** Default 2 (clip.cpp's LLaVA graph runs all but the last). */
  blocks?: number
  /** Default 4; must divide `embedding`. */
  heads?: number
}

/** Prompt tokens one image takes with these options. */
export function imageTokens(options: ProjectorOptions): number {
  return ((options.imageSize ?? 32) / (options.patchSize ?? 8)) ** 2
}

export function projectorSpec(options: ProjectorOptions): GgufSpec {
  const seed = options.seed ?? 1
  const size = options.imageSize ?? 32
  const patch = options.patchSize ?? 8
  const embd = options.embedding ?? 32
  const blocks = options.blocks ?? 2
  const heads = options.heads ?? 4
  // Not equal to `embd`: clip.cpp takes an ffn_down whose first dimension is n_embd for a legacy swapped pair.
  const ff = 2 * embd
  const text = options.textEmbedding
  if (size % patch !== 0) throw new RangeError(`patch size (${patch}) must divide image size (${size})`)
  if (embd % heads !== 0) throw new RangeError(`heads (${heads}) must divide embedding (${embd})`)

  let index = 0
  // A stream of its own per tensor, apart from the text model's (same seed, other weights).
  const weight = (name: string, dims: number[]): TensorSpec => ({
    name,
    dims,
    fill: uniformFill(seed * 7_000_003 + index++, Math.sqrt(3 / (dims[0] ?? 1))),
  })
  const ones = (name: string, n: number): TensorSpec => ({ name, dims: [n], fill: (out) => out.fill(1) })
  const zeros = (name: string, n: number): TensorSpec => ({ name, dims: [n] })

  const tensors: TensorSpec[] = [
    // ggml_conv_2d's kernel: [width, height, channels in, channels out].
    weight('v.patch_embd.weight', [patch, patch, 3, embd]),
    zeros('v.patch_embd.bias', embd),
    weight('v.position_embd.weight', [embd, (size / patch) ** 2]),
  ]
  for (let b = 0; b < blocks; b++) {
    const blk = `v.blk.${b}`
    tensors.push(
      ones(`${blk}.ln1.weight`, embd),
      zeros(`${blk}.ln1.bias`, embd),
      ...['attn_q', 'attn_k', 'attn_v', 'attn_out'].flatMap((t) => [
        weight(`${blk}.${t}.weight`, [embd, embd]),
        zeros(`${blk}.${t}.bias`, embd),
      ]),
      ones(`${blk}.ln2.weight`, embd),
      zeros(`${blk}.ln2.bias`, embd),
      weight(`${blk}.ffn_up.weight`, [embd, ff]),
      zeros(`${blk}.ffn_up.bias`, ff),
      weight(`${blk}.ffn_down.weight`, [ff, embd]),
      zeros(`${blk}.ffn_down.bias`, embd),
    )
  }
  tensors.push(
    weight('mm.0.weight', [embd, text]),
    zeros('mm.0.bias', text),
    weight('mm.2.weight', [text, text]),
    zeros('mm.2.bias', text),
  )
  return {
    metadata: {
      'general.architecture': { str: 'clip' },
      'general.name': { str: `ripple random projector seed ${seed}` },
      'general.file_type': { u32: 0 },
      'clip.projector_type': { str: 'mlp' },
      'clip.has_vision_encoder': { bool: true },
      'clip.use_gelu': { bool: true },
      'clip.vision.image_size': { u32: size },
      'clip.vision.patch_size': { u32: patch },
      'clip.vision.embedding_length': { u32: embd },
      'clip.vision.feed_forward_length': { u32: ff },
      'clip.vision.projection_dim': { u32: text },
      'clip.vision.block_count': { u32: blocks },
      'clip.vision.attention.head_count': { u32: heads },
      'clip.vision.attention.layer_norm_epsilon': { f32: 1e-5 },
      // CLIP's own normalisation.
      'clip.vision.image_mean': { f32s: [0.48145466, 0.4578275, 0.40821073] },
      'clip.vision.image_std': { f32s: [0.26862954, 0.26130258, 0.27577711] },
    },
    tensors,
  }
}

/** Writes the projector to `path`; returns its size. */
export async function writeProjector(path: string, options: ProjectorOptions): Promise<{ bytes: number }> {
  return { bytes: await writeGgufFile(path, projectorSpec(options)) }
}
