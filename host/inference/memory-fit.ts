/**
 * Whether a model fits the memory this host has free, estimated from its GGUF metadata before any
 * load: the weights (the file's tensor bytes, about its size) plus the KV cache for the context
 * (`kv_bytes_per_token` x the context used) plus llama.cpp's compute buffers. An estimate: it keeps a
 * peer from claiming a model it cannot hold, not a promise that one it claims will load.
 */
import { freemem } from 'node:os'
import type { GgufModel } from './gguf-scan.ts'

/** llama.cpp's scratch buffers beyond weights and cache, as a floor and a share of the weights. */
const COMPUTE_BUFFER_MIN_BYTES = 64 * 1024 ** 2
const COMPUTE_BUFFER_SHARE = 0.1

/** Bytes a load of `model` with a `contextSize`-token context is estimated to take. */
export function modelMemoryBytes(
  model: Pick<GgufModel, 'size_bytes' | 'kv_bytes_per_token' | 'context_length'>,
  contextSize: number,
): number {
  const tokens = Math.min(contextSize, model.context_length)
  const buffers = Math.max(COMPUTE_BUFFER_MIN_BYTES, model.size_bytes * COMPUTE_BUFFER_SHARE)
  return Math.ceil(model.size_bytes + model.kv_bytes_per_token * tokens + buffers)
}

// Slots beyond this add little on a CPU and cost KV cache memory; a GPU peer sets more (`--parallel`).
const MAX_DEFAULT_SLOTS = 4
// The share of free memory the slots' KV caches may take.
const KV_SHARE = 0.25

/** Slots for a model: as many KV caches of the context as a quarter of the free memory holds, 1 to 4. */
export function defaultSlots(
  info: Pick<GgufModel, 'kv_bytes_per_token' | 'context_length'>,
  contextSize: number,
): number {
  const perSlot = info.kv_bytes_per_token * Math.min(contextSize, info.context_length)
  if (perSlot <= 0) return MAX_DEFAULT_SLOTS
  return Math.max(1, Math.min(MAX_DEFAULT_SLOTS, Math.floor((freemem() * KV_SHARE) / perSlot)))
}
