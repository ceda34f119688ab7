/**
 * A model with a projector (`tiny.mmproj.gguf` beside `tiny.gguf`, generated: a CLIP-style tower and
 * an MLP projector to the text model's width) is served by llama-server with `--mmproj`: a real PNG
 * reaches the engine (the prompt grows by the image's tokens) on the chat endpoint and on the
 * rendered-then-completed path a JSON schema takes. The projector is no model of its own in the
 * listing, and a model without one refuses images naming itself.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import { LlamaServerProcess } from '../../../host/inference/engine/llama-server-process.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { type ChatMessage, InvalidMessagesError } from '../../../host/inference/tool-calls.ts'
import { wireContent } from '../../../host/inference/vision.ts'
import { imageTokens, writeProjector } from '../../fixtures/gguf-gen/mmproj-generator.ts'
import { pngDataUrl, tinyPng } from '../../fixtures/tiny-png.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

const TEXT_WIDTH = 64 // TINY_MODEL's embedding
let fixture: ModelsFixture
let vision: EngineModel

beforeAll(async () => {
  fixture = await modelsFixture()
  await writeProjector(join(fixture.dir, 'tiny.mmproj.gguf'), { textEmbedding: TEXT_WIDTH })
  await writeLlamaModel(join(fixture.dir, 'text.gguf'), TINY_MODEL)
  vision = await fixture.manager.load('tiny')
}, 60_000)
afterAll(async () => {
  await fixture?.close()
})

const ask = { max_tokens: 4, temperature: 0, seed: 1 }
const question = (images?: string[]) => [
  { role: 'user' as const, content: 'What is in the picture?', ...(images ? { images } : {}) },
]

describe('a vision model on the engine', { timeout: 60_000 }, () => {
  it('lists the projector with its model, not as a model of its own', async () => {
    const { models, unusable } = await fixture.manager.list()
    expect(models.map((m) => m.name).sort()).toEqual(['text', 'tiny'])
    expect(unusable).toEqual([])
    expect(vision.vision).toBe(true)
  })

  it('takes an image on the chat endpoint: the prompt grows by its tokens', async () => {
    const without = await vision.generate({ ...ask, messages: question() })
    const withImage = await vision.generate({ ...ask, messages: question([pngDataUrl()]) })
    expect(withImage.generated_tokens).toBe(4)
    const tokens = imageTokens({ textEmbedding: TEXT_WIDTH })
    expect(withImage.prompt_tokens - without.prompt_tokens).toBeGreaterThanOrEqual(tokens)
    // Two images, two images' tokens.
    const two = await vision.generate({
      ...ask,
      messages: question([pngDataUrl(), pngDataUrl(tinyPng(24, 12, 5))]),
    })
    expect(two.prompt_tokens - withImage.prompt_tokens).toBeGreaterThanOrEqual(tokens)
  })

  it('takes an image on the rendered prompt a JSON schema constrains', async () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }
    const without = await vision.generate({
      ...ask,
      max_tokens: 24,
      json_schema: schema,
      messages: question(),
    })
    const withImage = await vision.generate({
      ...ask,
      max_tokens: 24,
      json_schema: schema,
      messages: question([pngDataUrl()]),
    })
    expect(withImage.prompt_tokens - without.prompt_tokens).toBeGreaterThanOrEqual(
      imageTokens({ textEmbedding: TEXT_WIDTH }),
    )
  })

  it('refuses what is not an image as the request’s fault', async () => {
    await expect(
      vision.generate({ ...ask, messages: question(['data:image/png;base64,AAAA']) }),
    ).rejects.toMatchObject({ name: 'EngineRequestError', status: 400 })
  })

  it("counts an image's prompt as llama-server does, text and image in the order the client gave them", async () => {
    // llama-server alone, on the same files, asked with the parts in that order.
    const server = await LlamaServerProcess.start({
      dir: vision.backend.dir,
      env: vision.backend.env,
      args: ['-m', join(fixture.dir, 'tiny.gguf'), '--mmproj', join(fixture.dir, 'tiny.mmproj.gguf')].concat([
        '-c',
        '2048',
        '-np',
        '1',
        '-t',
        '1',
        '--jinja',
        '-ngl',
        '0',
      ]),
    })
    try {
      const text = { type: 'text', text: 'What is in the picture?' }
      const image = { type: 'image_url', image_url: { url: pngDataUrl() } }
      const alone = async (content: object[]) => {
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: server.headers,
          body: JSON.stringify({ messages: [{ role: 'user', content }], max_tokens: 1, temperature: 0 }),
        })
        return ((await response.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens
      }
      const after = await vision.generate({
        ...ask,
        messages: [{ ...question([pngDataUrl()])[0], images_at: [text.text.length] } as ChatMessage],
      })
      const before = await vision.generate({ ...ask, messages: question([pngDataUrl()]) })
      expect(after.prompt_tokens).toBe(await alone([text, image]))
      expect(before.prompt_tokens).toBe(await alone([image, text]))
      // The order shows in the count: Ripple put every image first, one token off for text first.
      expect(after.prompt_tokens).not.toBe(before.prompt_tokens)
    } finally {
      await server.stop()
    }
  })

  it('refuses images on a model without a projector, naming it', async () => {
    const text = await fixture.manager.load('text')
    expect(text.vision).toBe(false)
    const refused = text.generate({ ...ask, messages: question([pngDataUrl()]) })
    await expect(refused).rejects.toBeInstanceOf(InvalidMessagesError)
    await expect(refused).rejects.toThrow(/model "text" takes no images/)
  })
})

describe("a message's text and images on the wire", () => {
  const [a, b] = ['data:image/png;base64,AA==', 'data:image/png;base64,BB==']
  const image = (url: string) => ({ type: 'image_url', image_url: { url } })
  it.each<[string, ChatMessage, unknown]>([
    ['no images: the text alone', { role: 'user', content: 'hi' }, 'hi'],
    [
      'no places given: the images first',
      { role: 'user', content: 'hi', images: [a, b] },
      [image(a), image(b), { type: 'text', text: 'hi' }],
    ],
    [
      'each image where it stood',
      { role: 'user', content: 'one two', images: [a, b], images_at: [4, 7] },
      [{ type: 'text', text: 'one ' }, image(a), { type: 'text', text: 'two' }, image(b)],
    ],
    [
      'two images together, no text',
      { role: 'user', content: '', images: [a, b], images_at: [0, 0] },
      [image(a), image(b)],
    ],
  ])('%s', (_, message, wire) => {
    expect(wireContent(message)).toEqual(wire)
  })
})
