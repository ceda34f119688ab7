/**
 * Vision models: a model `<name>.gguf` with a multimodal projector `<name>.mmproj.gguf` beside it is
 * served with llama-server's `--mmproj` and takes images. A peer advertises it with the capability tag
 * `vision:<the model file's sha256, its first 25 hex>` (the contract's tags, so no rule changes: a tag
 * is lowercase and at most 32 characters, which a model name need not be), and a request with images
 * is routed only to peers that advertise it. Images travel in chat messages as data URLs; llama-server
 * takes them as OpenAI `image_url` parts, or, for a prompt rendered first, as `multimodal_data`.
 */
import { statSync } from 'node:fs'
import { z } from 'zod'
import { LIMITS } from '../../zomes-bindings/index.ts'
import type { ChatMessage } from './tool-calls.ts'

export const PROJECTOR_SUFFIX = '.mmproj.gguf'
/** The most image bytes (decoded) one request may carry, all its images together. */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024
/** The most images one request may carry. */
export const MAX_IMAGES = 16
const VISION_TAG = 'vision:'
const TAG_HASH_CHARS = LIMITS.tag.max - VISION_TAG.length

/** Whether a file in the models directory is a projector (not a model of its own). */
export function isProjectorFile(name: string): boolean {
  return name.endsWith(PROJECTOR_SUFFIX)
}

/** The projector file of a model file, whether or not it exists. */
export function projectorPath(modelPath: string): string {
  return `${modelPath.replace(/\.gguf$/, '')}${PROJECTOR_SUFFIX}`
}

/** The model's projector when one is there (a non-empty file), else null. */
export function projectorOf(modelPath: string): string | null {
  const path = projectorPath(modelPath)
  try {
    return statSync(path).size > 0 ? path : null
  } catch {
    return null
  }
}

export function visionTag(fileHash: string): string {
  return `${VISION_TAG}${fileHash.slice(0, TAG_HASH_CHARS)}`
}

/**
 * The vision tags of the models that have a projector, at most `room` of them (the contract caps a
 * capability's tags); two copies of one file give one tag.
 */
export function visionTags(models: readonly { path: string; sha256: string }[], room: number): string[] {
  const tags = new Set<string>()
  for (const model of models) {
    if (tags.size >= room) break
    if (projectorOf(model.path) !== null) tags.add(visionTag(model.sha256))
  }
  return [...tags]
}

/** A capability's tags and the vision tags of its models, as many as the contract has room for. */
export function withVisionTags(
  tags: readonly string[],
  models: readonly { path: string; sha256: string }[],
): string[] {
  const vision = visionTags(models, LIMITS.node_capability.tags.max - tags.length)
  return [...tags, ...vision.filter((t) => !tags.includes(t))]
}

/** Whether a peer advertises vision for the model file with this hash. */
export function advertisesVision(capability: { tags: readonly string[] }, fileHash: string): boolean {
  return capability.tags.includes(visionTag(fileHash))
}

const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,/

/** An image as the worker takes it: a base64 data URL, at most the request's whole allowance. */
export const ImageDataUrlSchema = z
  .string()
  .max(Math.ceil(MAX_IMAGE_BYTES / 3) * 4 + 64)
  .refine((url) => DATA_URL.test(url.slice(0, 64)), 'an image is a data URL: data:image/<type>;base64,...')

/** The bytes an image's data URL decodes to (its base64, less the padding). */
export function imageBytes(url: string): number {
  const base64 = url.slice(url.indexOf(',') + 1)
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0
  return Math.floor((base64.length * 3) / 4) - padding
}

/** The bytes of an image's data URL, decoded from base64 (the image still encoded: PNG, JPEG...). */
export function imageData(url: string): Buffer {
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
}

/** Whether an `infer.generate` input (or its messages) carries images. */
export function hasImages(input: { messages?: unknown }): boolean {
  const messages = Array.isArray(input.messages) ? (input.messages as ChatMessage[]) : []
  return messages.some((m) => (m?.images?.length ?? 0) > 0)
}

/**
 * A message's content as llama-server's chat endpoint takes it: its text and images in their order
 * (`images_at`; the images first without it).
 */
export function wireContent(message: ChatMessage): string | Record<string, unknown>[] {
  if (!message.images?.length) return message.content
  const parts: Record<string, unknown>[] = []
  let from = 0
  const text = (to: number) => {
    if (to > from) parts.push({ type: 'text', text: message.content.slice(from, to) })
    from = Math.max(from, to)
  }
  message.images.forEach((url, i) => {
    text(message.images_at?.[i] ?? 0)
    parts.push({ type: 'image_url', image_url: { url } })
  })
  text(message.content.length)
  return parts
}

/**
 * The images of a conversation in the order its rendered prompt names them (llama-server's
 * `/apply-template` puts a media marker for each), as `/completion`'s `multimodal_data` takes them:
 * base64 without the data URL's prefix.
 */
export function multimodalData(messages: readonly ChatMessage[]): string[] {
  return messages.flatMap((m) => (m.images ?? []).map((url) => url.slice(url.indexOf(',') + 1)))
}
