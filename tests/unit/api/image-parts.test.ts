/**
 * Images in requests: each API's image parts read onto the user message as URLs; `resolveImages`
 * makes them checked data URLs (an http(s) URL fetched only when the peer allows it, a 400 otherwise;
 * a request's images at most 10 MiB decoded, a 413 past it). Where the request enters the mesh, one
 * with images goes only to a model some peer serves with its projector (a 400 naming the model
 * otherwise), and routing keeps only the peers that advertise vision for the model's file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MessagesRequestSchema, messagesCall } from '../../../host/api/openai/anthropic-messages.ts'
import { ChatCompletionRequestSchema, chatCompletionCall } from '../../../host/api/openai/chat-completions.ts'
import { type EndpointError, endpointReply } from '../../../host/api/openai/endpoint-error.ts'
import type { GenerateInput, GenerateOutput } from '../../../host/api/openai/generation.ts'
import { imagePolicy, resolveImages } from '../../../host/api/openai/image-parts.ts'
import { ResponseStore } from '../../../host/api/openai/response-store.ts'
import { ResponseRequestSchema, responseCall, responseId } from '../../../host/api/openai/responses.ts'
import { MAX_IMAGE_BYTES, visionTag, withVisionTags } from '../../../host/inference/vision.ts'
import type { PeerEntry } from '../../../host/interface/live-peers.ts'
import { planRoute } from '../../../host/requests/direct/route-plan.ts'
import { imageRouteError } from '../../../host/requests/image-route.ts'
import { pngDataUrl, pngDeclaring, pngOfBytes, tinyPng } from '../../fixtures/tiny-png.ts'

const PNG = tinyPng()
const DATA_URL = pngDataUrl(PNG)
const BASE64 = PNG.toString('base64')

describe('image parts of each API', () => {
  it('chat: image_url parts (an object or a bare string) on the user message, each where it stands in the text', () => {
    const request = ChatCompletionRequestSchema.parse({
      model: 'eye',
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is ' },
            { type: 'image_url', image_url: { url: DATA_URL, detail: 'low' } },
            { type: 'text', text: 'this?' },
            { type: 'image_url', image_url: 'https://example.com/a.png' },
          ],
        },
      ],
    })
    expect(chatCompletionCall(request).input.messages).toEqual([
      { role: 'system', content: 'be brief' },
      {
        role: 'user',
        content: 'What is this?',
        images: [DATA_URL, 'https://example.com/a.png'],
        // After 'What is ' and after 'this?': llama-server lays the prompt out in the parts' order.
        images_at: [8, 13],
      },
    ])
  })

  it('messages: base64 and url image blocks; images first need no places (as earlier releases read them)', () => {
    const request = MessagesRequestSchema.parse({
      model: 'eye',
      max_tokens: 4,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: BASE64 } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/b.png' } },
            { type: 'text', text: 'Describe.' },
          ],
        },
      ],
    })
    expect(messagesCall(request).input.messages).toEqual([
      { role: 'user', content: 'Describe.', images: [DATA_URL, 'https://example.com/b.png'] },
    ])
    const between = MessagesRequestSchema.parse({
      model: 'eye',
      max_tokens: 4,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'First' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: BASE64 } },
            { type: 'text', text: 'then' },
          ],
        },
      ],
    })
    // Text blocks join with a line break; the image stands after the first.
    expect(messagesCall(between).input.messages).toEqual([
      { role: 'user', content: 'First\nthen', images: [DATA_URL], images_at: [5] },
    ])
  })

  it('responses: input_image parts; one without image_url is refused naming it', () => {
    const request = ResponseRequestSchema.parse({
      model: 'eye',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'And this?' },
            { type: 'input_image', image_url: DATA_URL },
          ],
        },
      ],
    })
    expect(responseCall(request).input.messages).toEqual([
      { role: 'user', content: 'And this?', images: [DATA_URL], images_at: [9] },
    ])
    const refused = ResponseRequestSchema.safeParse({
      model: 'eye',
      input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }],
    })
    expect(refused.error?.issues[0]?.message).toMatch(/file_id is not supported/)
  })
})

describe('responses kept for previous_response_id', () => {
  it('hold at most 256 MiB of images, the oldest going first', () => {
    const store = new ResponseStore()
    const image = `data:image/png;base64,${'A'.repeat(14 * 1024 * 1024)}`
    const history = [{ role: 'user' as const, content: 'q', images: [image] }]
    const answer = { text: 'a', tool_calls: [] } as unknown as GenerateOutput
    const ids = Array.from({ length: 20 }, (_, i) => ({ task: `task${i}`, model: 'eye', created: 1 }))
    for (const id of ids) store.remember(id, history, answer)
    expect(() => store.conversation(responseId(ids[0]!), 'eye')).toThrow(/not kept/)
    expect(store.conversation(responseId(ids[19]!), 'eye')).toHaveLength(2)
  })
})

const input = (...images: string[]): GenerateInput => ({
  messages: [{ role: 'user', content: 'q', images }],
  max_tokens: 4,
})
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('resolved')
    },
    (err: EndpointError) => ({
      status: endpointReply('/v1/chat/completions', err).status,
      code: err.code,
      message: err.message,
    }),
  )

/** The test server is on loopback: fetching from it needs local addresses allowed. */
const LOCAL = imagePolicy('local')

describe('resolveImages', () => {
  let server: Server
  let base: string
  beforeAll(async () => {
    server = createServer((request, response) => {
      const moved = /^\/moved\/(\d+)$/.exec(request.url ?? '')
      if (moved) {
        const left = Number(moved[1])
        response.writeHead(302, { location: left > 1 ? `/moved/${left - 1}` : '/a.png' }).end()
      } else if (request.url === '/a.png') response.writeHead(200, { 'content-type': 'image/png' }).end(PNG)
      else if (request.url === '/huge-pixels.png')
        response.writeHead(200, { 'content-type': 'image/png' }).end(pngDeclaring(20_000, 20_000))
      else if (request.url === '/page') response.writeHead(200, { 'content-type': 'text/html' }).end('<p>')
      else if (request.url === '/huge.png') {
        // No content-length: the limit must hold while reading.
        response.writeHead(200, { 'content-type': 'image/png' })
        const chunk = Buffer.alloc(1024 * 1024)
        for (let i = 0; i < 11; i++) response.write(chunk)
        response.end()
      } else response.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('takes a data URL as it is, and leaves a request without images alone', async () => {
    const plain: GenerateInput = { messages: [{ role: 'user', content: 'q' }], max_tokens: 4 }
    expect(await resolveImages(plain, { allowUrls: false })).toBe(plain)
    const resolved = await resolveImages(input(DATA_URL), { allowUrls: false })
    expect(resolved.messages?.[0]?.images).toEqual([DATA_URL])
  })

  it('refuses an image URL when the peer does not fetch them, saying how to send it', async () => {
    expect(await refusal(resolveImages(input(`${base}/a.png`), { allowUrls: false }))).toMatchObject({
      status: 400,
      code: 'image_url_not_allowed',
      message: expect.stringMatching(/--allow-image-urls.*data URL/),
    })
  })

  it('fetches from public addresses only unless the peer allows local ones too, redirects checked', async () => {
    const publicOnly = imagePolicy('public')
    for (const url of [
      `${base}/a.png`,
      'http://localhost:9/a.png',
      'http://[::1]:9/a.png',
      'http://169.254.169.254/',
    ])
      expect(await refusal(resolveImages(input(url), publicOnly))).toMatchObject({
        status: 400,
        code: 'invalid_image',
        message: expect.stringMatching(
          /not a public address: this peer fetches images from public addresses only/,
        ),
      })
    // Allowed local addresses, a redirect is followed (and checked again, hop by hop), up to five.
    const redirected = await resolveImages(input(`${base}/moved/2`), LOCAL)
    expect(redirected.messages?.[0]?.images).toEqual([DATA_URL])
    expect(await refusal(resolveImages(input(`${base}/moved/6`), LOCAL))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/too many redirects/),
    })
  })

  it('fetches an image URL when allowed, as a data URL; not a page, not a missing one', async () => {
    const resolved = await resolveImages(input(`${base}/a.png`), LOCAL)
    expect(resolved.messages?.[0]?.images).toEqual([DATA_URL])
    for (const path of ['/page', '/gone.png'])
      expect(await refusal(resolveImages(input(`${base}${path}`), LOCAL))).toMatchObject({
        status: 400,
        code: 'invalid_image',
      })
  })

  it('refuses more than 10 MiB of images (413), in one data URL, one fetch, or all together', async () => {
    const big = (bytes: number) => pngDataUrl(pngOfBytes(bytes))
    const limit = { status: 413, code: 'image_too_large', message: expect.stringMatching(/10 MiB/) }
    expect(await refusal(resolveImages(input(big(MAX_IMAGE_BYTES + 3)), { allowUrls: false }))).toMatchObject(
      limit,
    )
    const half = big(MAX_IMAGE_BYTES / 2 + 3)
    expect(await refusal(resolveImages(input(half, half), { allowUrls: false }))).toMatchObject(limit)
    expect(await refusal(resolveImages(input(`${base}/huge.png`), LOCAL))).toMatchObject(limit)
  })

  it('refuses an image whose header declares past 50 megapixels (413), sent or fetched, not decoding it', async () => {
    const huge = pngDataUrl(pngDeclaring(20_000, 20_000))
    const limit = {
      status: 413,
      code: 'image_too_large',
      message: 'image 2 is 20000 × 20000 pixels (400.0 megapixels): at most 50 megapixels are taken',
    }
    expect(await refusal(resolveImages(input(DATA_URL, huge), { allowUrls: false }))).toMatchObject(limit)
    expect(await refusal(resolveImages(input(DATA_URL, `${base}/huge-pixels.png`), LOCAL))).toMatchObject(
      limit,
    )
  })

  it('refuses an image in a format whose size it does not read (400): the engine would decode it unbounded', async () => {
    // A TGA header declaring 65,535 × 65,535 pixels, 18 bytes.
    const tga = Buffer.from([0, 0, 2, ...Array(9).fill(0), 255, 255, 255, 255, 24, 0])
    expect(
      await refusal(
        resolveImages(input(DATA_URL, `data:image/x-tga;base64,${tga.toString('base64')}`), {
          allowUrls: false,
        }),
      ),
    ).toMatchObject({
      status: 400,
      code: 'invalid_image',
      message: expect.stringMatching(
        /^image 2: it is not a PNG, JPEG, GIF, WebP or BMP whose header gives its size/,
      ),
    })
  })

  it('refuses what is not an image data URL', async () => {
    for (const url of [
      'data:text/plain;base64,aGk=',
      'data:image/png,rawbytes',
      'data:image/png;base64,@@@',
      'ftp://x/a.png',
    ])
      expect(await refusal(resolveImages(input(url), { allowUrls: true }))).toMatchObject({
        status: 400,
        code: 'invalid_image',
      })
  })
})

const HASH = 'ab'.repeat(32)
function peer(agent: string, vision: boolean, self = false): PeerEntry {
  return {
    agent,
    self,
    status: 'online',
    capability: {
      inference: { models: [{ name: 'eye', loaded: true, file_hash: HASH, size_bytes: 1 }] },
      tags: vision ? ['engine:cpu', visionTag(HASH)] : ['engine:cpu'],
    },
    load: null,
  } as unknown as PeerEntry
}

describe('vision on the mesh', () => {
  it('tags each model file with a projector once, within the contract’s 32 tags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ripple-vision-tags-'))
    try {
      await writeFile(join(dir, 'eye.mmproj.gguf'), 'x')
      const model = (name: string, sha256: string) => ({ path: join(dir, `${name}.gguf`), sha256 })
      const models = [model('eye', HASH), model('blind', 'cd'.repeat(32))]
      expect(visionTag(HASH)).toHaveLength(32)
      expect(withVisionTags(['gpu'], models)).toEqual(['gpu', visionTag(HASH)])
      // A copy of the same file under another name: one tag.
      await writeFile(join(dir, 'copy.mmproj.gguf'), 'x')
      expect(withVisionTags([], [...models, model('copy', HASH)])).toEqual([visionTag(HASH)])
      const full = Array.from({ length: 32 }, (_, i) => `t${i}`)
      expect(withVisionTags(full, models)).toEqual(full)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('routes a request with images only to peers that serve the model with its projector', () => {
    const peers = [peer('seeing', true), peer('blind', false, true)]
    const route = (vision: boolean) =>
      planRoute({ peers, model: 'eye', outstanding: new Map(), needBytes: null, vision }).map((c) => c.agent)
    expect(route(false)).toEqual(['blind', 'seeing'])
    expect(route(true)).toEqual(['seeing'])
  })

  it('refuses images to a model no peer serves with a projector, naming it', () => {
    const request = { model: 'eye', input: input(DATA_URL), fanOut: 1 }
    expect(imageRouteError(request, [peer('seeing', true)])).toBeNull()
    expect(imageRouteError({ ...request, input: { messages: [] } }, [peer('blind', false)])).toBeNull()
    expect(imageRouteError(request, [peer('blind', false)])).toMatchObject({
      failureKind: 'invalid',
      code: 'model_without_vision',
      message: expect.stringMatching(/model "eye" takes no images/),
    })
  })
})
