/**
 * Images in requests, as each API sends them: chat's `image_url` parts, Anthropic's `image` blocks
 * (base64 or a URL) and the Responses API's `input_image` parts. Each becomes a URL on the message
 * (`images`); before the request enters the mesh, `resolveImages` makes every one a checked data URL:
 * a data URL is taken as it is, an http(s) URL is fetched here only when the peer allows it
 * (`ripple up --allow-image-urls`: a request must not make a peer fetch arbitrary addresses by
 * default), from public addresses only unless it allows local ones too, and all the images of a request together are at most MAX_IMAGE_BYTES decoded,
 * each at most MAX_IMAGE_PIXELS as its header declares.
 */
import type { Response } from 'undici'
import { z } from 'zod'
import { imageRefusal } from '../../inference/image-size.ts'
import type { ChatMessage } from '../../inference/tool-calls.ts'
import { MAX_IMAGE_BYTES, MAX_IMAGES } from '../../inference/vision.ts'
import { AddressNotAllowedError, guardedFetch } from '../../net/guarded-fetch.ts'
import { EndpointError } from './endpoint-error.ts'
import type { GenerateInput } from './generation.ts'

/** Chat: `{type: 'image_url', image_url: {url}}` (some clients send the URL as a bare string). */
export const ChatImagePartSchema = z
  .object({
    type: z.literal('image_url'),
    image_url: z.union([z.string(), z.object({ url: z.string(), detail: z.string().nullish() })]),
  })
  .transform((p) => (typeof p.image_url === 'string' ? p.image_url : p.image_url.url))

/** A chat user message's content: a string, or text and `image_url` parts, read as text and image URLs. */
export const ChatUserContentSchema = z
  .union([z.string(), z.array(z.looseObject({ type: z.string() }))])
  .nullish()
  .transform((content, ctx) => {
    if (typeof content === 'string' || content == null) return [{ text: content ?? '' }]
    const pieces: ContentPiece[] = []
    content.forEach((part, i) => {
      const parsed =
        part.type === 'text'
          ? z.object({ text: z.string() }).safeParse(part)
          : part.type === 'image_url'
            ? ChatImagePartSchema.safeParse(part)
            : null
      if (parsed === null)
        ctx.addIssue({
          code: 'custom',
          message: `content parts of type "${part.type}" are not supported (text and image_url)`,
          path: [i, 'type'],
        })
      else if (!parsed.success)
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', message: issue.message, path: [i, ...issue.path] })
      else if (typeof parsed.data === 'string') pieces.push({ image: parsed.data })
      else pieces.push({ text: parsed.data.text })
    })
    return pieces
  })

/** Anthropic: `{type: 'image', source: {type: 'base64', media_type, data} | {type: 'url', url}}`. */
export const AnthropicImageBlockSchema = z.object({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() }),
    z.object({ type: z.literal('url'), url: z.string() }),
  ]),
})

/** An Anthropic image block's URL (a data URL for a base64 one). */
export function anthropicImageUrl(block: z.infer<typeof AnthropicImageBlockSchema>): string {
  const { source } = block
  return source.type === 'url' ? source.url : `data:${source.media_type};base64,${source.data}`
}

/** Responses: `{type: 'input_image', image_url}`; a `file_id` names an upload this API does not keep. */
export const InputImagePartSchema = z
  .object({
    type: z.literal('input_image'),
    image_url: z.string().nullish(),
    file_id: z.string().nullish(),
    detail: z.string().nullish(),
  })
  .refine((p) => typeof p.image_url === 'string', {
    message: 'input_image needs image_url (a data URL, or an http(s) URL); file_id is not supported',
    path: ['image_url'],
  })
  .transform((p) => p.image_url as string)

/** A user message of text and images, as the worker takes it. */
/** A part of a user's message: text, or an image (its URL). */
export type ContentPiece = { text: string } | { image: string }

/**
 * A user's message of text and images in the order given, texts joined by `joiner`: each image stands
 * where the text before it ends (`images_at`), as llama-server lays them out, so the prompt is the
 * same tokens. Left out when every image comes first, as runners of earlier releases lay them.
 */
export function userMessage(pieces: readonly ContentPiece[], joiner = ''): ChatMessage {
  const texts: string[] = []
  const images: string[] = []
  const at: number[] = []
  let length = 0
  for (const piece of pieces) {
    if ('image' in piece) {
      images.push(piece.image)
      at.push(length)
      continue
    }
    length += (texts.length > 0 ? joiner.length : 0) + piece.text.length
    texts.push(piece.text)
  }
  const placed = at.some((offset) => offset > 0) ? { images_at: at } : {}
  return { role: 'user', content: texts.join(joiner), ...(images.length > 0 ? { images, ...placed } : {}) }
}

export interface ImagePolicy {
  /** Fetch http(s) image URLs here (`--allow-image-urls`); off, such an image is a 400. */
  allowUrls: boolean
  /**
   * From local addresses too (`--allow-image-urls local`: loopback, private, link-local); off, a URL
   * that leads there is a 400 (it would reach this machine's own services, its LAN, a cloud's metadata).
   */
  localUrls?: boolean
  /** How long one fetch may take; default 15 s. */
  fetchTimeoutMs?: number
}

/** Where a peer fetches image URLs from: public addresses, or local ones (loopback, LAN, link-local) too. */
export type ImageUrlReach = 'public' | 'local'

export function imagePolicy(reach: false | ImageUrlReach): ImagePolicy {
  return { allowUrls: reach !== false, localUrls: reach === 'local' }
}

/** The body a generation request may have: its images' allowance as base64, and room for the text. */
export const IMAGE_BODY_LIMIT = 16 * 1024 * 1024

const FETCH_TIMEOUT_MS = 15_000
const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const MIB = 1024 * 1024

/**
 * The input with every image a checked data URL (a 400 for a bad or refused one, a 413 past the size
 * limit); the input itself when it has none. New messages: the caller's keep the URLs as sent.
 */
export async function resolveImages(
  input: GenerateInput,
  policy: ImagePolicy,
  signal?: AbortSignal,
): Promise<GenerateInput> {
  const messages = input.messages ?? []
  const count = messages.reduce((n, m) => n + (m.images?.length ?? 0), 0)
  if (count === 0) return input
  if (count > MAX_IMAGES)
    throw new EndpointError(
      'invalid',
      'too_many_images',
      `${count} images: a request takes at most ${MAX_IMAGES}`,
      'messages',
    )
  let bytes = 0
  let n = 0
  const resolved: ChatMessage[] = []
  for (const message of messages) {
    if (!message.images?.length) {
      resolved.push(message)
      continue
    }
    const images: string[] = []
    for (const url of message.images) {
      n += 1
      const image = url.startsWith('data:')
        ? dataImage(url, n)
        : await fetchImage(url, n, policy, MAX_IMAGE_BYTES - bytes, signal)
      bytes += image.bytes
      if (bytes > MAX_IMAGE_BYTES) throw tooLarge(bytes)
      images.push(image.url)
    }
    resolved.push({ ...message, images })
  }
  return { ...input, messages: resolved }
}

function tooLarge(bytes: number): EndpointError {
  return new EndpointError(
    'invalid/too_large',
    'image_too_large',
    `the request's images are ${(bytes / MIB).toFixed(1)} MiB or more decoded; at most ${MAX_IMAGE_BYTES / MIB} MiB are taken`,
    'messages',
  )
}

/**
 * The image itself, when its header declares no more pixels than are taken (a 413 naming its size) in a
 * format whose size is read (else a 400).
 */
function withinPixels(image: Buffer, n: number): Buffer {
  const refusal = imageRefusal(image)
  if (refusal === null) return image
  if (!refusal.tooLarge) throw invalidImage(n, `it is ${refusal.why}`)
  throw new EndpointError('invalid/too_large', 'image_too_large', `image ${n} is ${refusal.why}`, 'messages')
}

function invalidImage(n: number, why: string): EndpointError {
  return new EndpointError('invalid', 'invalid_image', `image ${n}: ${why}`, 'messages')
}

/** A data URL checked (an image, base64) and normalised (no whitespace in the data). */
function dataImage(url: string, n: number): { url: string; bytes: number } {
  const head = DATA_URL.exec(url.slice(0, 256))
  if (head === null) throw invalidImage(n, 'not a data URL (data:image/<type>;base64,<data>)')
  const [prefix, type = '', params = ''] = head
  if (!/^image\/[a-z0-9.+-]+$/i.test(type))
    throw invalidImage(n, `a data URL of type "${type}" is not an image (image/png, image/jpeg, ...)`)
  if (!params.split(';').includes('base64')) throw invalidImage(n, 'a data URL must be base64 (;base64,)')
  const data = url.slice(prefix.length).replace(/\s+/g, '')
  if (data.length % 4 !== 0 || !BASE64.test(data)) throw invalidImage(n, 'the data URL is not valid base64')
  const bytes = (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0)
  if (bytes > MAX_IMAGE_BYTES) throw tooLarge(bytes)
  withinPixels(Buffer.from(data, 'base64'), n)
  return { url: `data:${type.toLowerCase()};base64,${data}`, bytes }
}

/** An http(s) image fetched here (when the peer allows it), at most `room` bytes, as a data URL. */
async function fetchImage(
  url: string,
  n: number,
  policy: ImagePolicy,
  room: number,
  signal?: AbortSignal,
): Promise<{ url: string; bytes: number }> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw invalidImage(n, 'neither a data URL nor an http(s) URL')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalidImage(n, `URLs of scheme ${parsed.protocol} are not taken (a data URL, or an http(s) URL)`)
  if (!policy.allowUrls)
    throw new EndpointError(
      'invalid',
      'image_url_not_allowed',
      `image ${n}: this peer does not fetch image URLs (start it with \`ripple up --allow-image-urls\`); send the image as a data URL (data:image/png;base64,...)`,
      'messages',
    )
  const timeout = AbortSignal.timeout(policy.fetchTimeoutMs ?? FETCH_TIMEOUT_MS)
  const aborted = signal ? AbortSignal.any([signal, timeout]) : timeout
  try {
    return await guardedFetch(parsed, { local: policy.localUrls === true, signal: aborted }, (response) =>
      readImage(response, url, n, room),
    )
  } catch (err) {
    if (err instanceof EndpointError) throw err
    if (err instanceof AddressNotAllowedError)
      throw invalidImage(
        n,
        `${err.message}: this peer fetches images from public addresses only (\`ripple up --allow-image-urls local\` fetches from local ones too)`,
      )
    throw invalidImage(n, `could not fetch ${url}: ${(err as Error).message}`)
  }
}

/** The image a response holds, at most `room` bytes, as a data URL; a 400 when it is none. */
async function readImage(
  response: Response,
  url: string,
  n: number,
  room: number,
): Promise<{ url: string; bytes: number }> {
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (!response.ok || !type.startsWith('image/')) {
    await response.body?.cancel()
    throw invalidImage(
      n,
      response.ok ? `${url} is ${type || 'of no type'}, not an image` : `${url} answered ${response.status}`,
    )
  }
  const claimed = Number(response.headers.get('content-length') ?? 0)
  if (claimed > room) {
    await response.body?.cancel()
    throw tooLarge(MAX_IMAGE_BYTES - room + claimed)
  }
  const chunks: Buffer[] = []
  let bytes = 0
  // A reader, not `for await`: the DOM typing the UI's check uses has no async iterator on streams.
  const reader = response.body?.getReader()
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    bytes += read.value.length
    // Read no further than the limit: the size a server claims may be false.
    if (bytes > room) {
      await reader?.cancel()
      throw tooLarge(MAX_IMAGE_BYTES - room + bytes)
    }
    chunks.push(Buffer.from(read.value))
  }
  return { url: `data:${type};base64,${withinPixels(Buffer.concat(chunks), n).toString('base64')}`, bytes }
}
