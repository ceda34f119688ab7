/**
 * Images end to end, through the official `openai` and `@anthropic-ai/sdk` clients, on two `ripple up`
 * processes: the asker has the model `eye` without its projector and a text model; the seer has `eye`
 * (the same file) with `eye.mmproj.gguf` beside it (generated: random weights clip.cpp loads). A real
 * PNG to `eye` goes to the seer, the only peer advertising vision for that file, and is answered on
 * chat completions, messages and responses with its tokens in the prompt; the same image to the text
 * model is a 400 naming it; an image URL is a 400 (the asker runs without --allow-image-urls); more
 * than 10 MiB of images is a 413.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { imageTokens, writeProjector } from '../fixtures/gguf-gen/mmproj-generator.ts'
import { pngDataUrl, tinyPng } from '../fixtures/tiny-png.ts'
import { isolatedNetwork, type RunningRipple, startRipple } from './ripple-process.ts'

type Peer = RunningRipple & { agent: string; url: string; token: string }

const PROJECTOR = { textEmbedding: 64 } // TINY_MODEL's width
const PNG = tinyPng()
let root: string
let asker: Peer
let seer: Peer
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-vision-'))
  const network = await isolatedNetwork(root, 'e2e-vision')
  const start = async (name: 'asker' | 'seer'): Promise<Peer> => {
    const dataDir = join(root, name)
    const models = join(root, `${name}-models`)
    await mkdir(models, { recursive: true })
    await writeLlamaModel(join(models, 'eye.gguf'), TINY_MODEL)
    if (name === 'seer') await writeProjector(join(models, 'eye.mmproj.gguf'), PROJECTOR)
    else await writeLlamaModel(join(models, 'text.gguf'), { ...TINY_MODEL, seed: 2 })
    const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
    const daemon = await startRipple(
      [...flags, '--name', name, '--threads', '1', '--log-level', 'warn'],
      60_000,
    )
    const line = (key: string) => new RegExp(`^ripple: ${key} (\\S+)$`, 'm').exec(daemon.stdout())?.[1] ?? ''
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
    return { ...daemon, agent: line('agent'), url: line('api'), token }
  }
  ;[asker, seer] = await Promise.all([start('asker'), start('seer')])
  openai = new OpenAI({ baseURL: `${asker.url}/v1`, apiKey: asker.token, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: asker.url, apiKey: asker.token, maxRetries: 0 })
  // The asker must know the seer's capability (its vision tag comes with it) before it routes.
  for (const deadline = Date.now() + 40_000; ; ) {
    const models = await openai.models.list()
    const eye = models.data.find((m) => m.id === 'eye') as { ripple?: { peers: string[] } } | undefined
    if (eye?.ripple?.peers.includes(seer.agent)) break
    if (Date.now() > deadline) throw new Error('the asker never saw the seer’s model')
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}, 90_000)

afterAll(async () => {
  for (const p of [asker, seer]) if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

const QUESTION = 'What is in this picture?'
const greedy = { max_tokens: 4, temperature: 0, seed: 1 }
const anthropicGreedy = { temperature: 0 }

describe('images on /v1, through the official clients', { timeout: 60_000 }, () => {
  it('lists the model some peer serves with its projector as taking images', async () => {
    const models = (await openai.models.list()).data as unknown as {
      id: string
      ripple: { vision: boolean }
    }[]
    expect(models.map((m) => [m.id, m.ripple.vision])).toEqual([
      ['eye', true],
      ['text', false],
    ])
  })

  it('chat completions: a PNG to the vision model goes to the peer with the projector, and into the prompt', async () => {
    const plain = await openai.chat.completions.create({
      model: 'eye',
      messages: [{ role: 'user', content: QUESTION }],
      ...greedy,
    })
    const { data, response } = await openai.chat.completions
      .create({
        model: 'eye',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: QUESTION },
              { type: 'image_url', image_url: { url: pngDataUrl(PNG) } },
            ],
          },
        ],
        ...greedy,
      })
      .withResponse()
    expect(response.headers.get('x-ripple-peer')).toBe(seer.agent)
    expect(data.usage?.completion_tokens).toBe(4)
    expect(data.usage!.prompt_tokens - plain.usage!.prompt_tokens).toBeGreaterThanOrEqual(
      imageTokens(PROJECTOR),
    )
  })

  it('chat completions: streamed the same, the usage last', async () => {
    const stream = await openai.chat.completions.create({
      model: 'eye',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: pngDataUrl(PNG) } }] }],
      ...greedy,
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: OpenAI.CompletionUsage | null | undefined = null
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      usage = chunk.usage ?? usage
    }
    expect(text).not.toBe('')
    expect(usage?.completion_tokens).toBe(4)
    expect(usage?.prompt_tokens).toBeGreaterThan(imageTokens(PROJECTOR))
  })

  it('messages: a base64 image block is answered, its tokens in the input', async () => {
    const image: Anthropic.ImageBlockParam = {
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') },
    }
    const ask = (withImage: boolean) =>
      anthropic.messages.create({
        model: 'eye',
        max_tokens: 4,
        // Greedy as every call here: sampled, random weights may end the answer within its 4 tokens
        // (the SDK's types have no temperature; Ripple's route takes it).
        ...anthropicGreedy,
        messages: [
          { role: 'user', content: [...(withImage ? [image] : []), { type: 'text', text: QUESTION }] },
        ],
      })
    const [plain, withImage] = [await ask(false), await ask(true)]
    expect(withImage.usage.output_tokens).toBe(4)
    // Anthropic counts the prompt's cached tokens apart from input_tokens.
    const prompt = (m: Anthropic.Message) => m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0)
    expect(prompt(withImage) - prompt(plain)).toBeGreaterThanOrEqual(imageTokens(PROJECTOR))
  })

  it('responses: an input_image is answered, its tokens in the input', async () => {
    const ask = (image: boolean) =>
      openai.responses.create({
        model: 'eye',
        max_output_tokens: 4,
        temperature: 0,
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: QUESTION },
              ...(image
                ? [{ type: 'input_image' as const, image_url: pngDataUrl(PNG), detail: 'auto' as const }]
                : []),
            ],
          },
        ],
      })
    const [plain, withImage] = [await ask(false), await ask(true)]
    expect(withImage.status).toBe('incomplete')
    expect(withImage.usage?.output_tokens).toBe(4)
    expect(withImage.usage!.input_tokens - plain.usage!.input_tokens).toBeGreaterThanOrEqual(
      imageTokens(PROJECTOR),
    )
  })

  it('refuses an image to a model without vision, naming the model', async () => {
    const refused = openai.chat.completions.create({
      model: 'text',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: pngDataUrl(PNG) } }] }],
      ...greedy,
    })
    await expect(refused).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/model "text"/),
    })
    const viaAnthropic = anthropic.messages.create({
      model: 'text',
      max_tokens: 4,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') },
            },
          ],
        },
      ],
    })
    // Anthropic's client quotes the error body: the name's quotes come escaped.
    await expect(viaAnthropic).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/model \\?"text\\?" takes no images/),
    })
  })

  it('refuses an image URL on a peer started without --allow-image-urls, saying so', async () => {
    const refused = openai.chat.completions.create({
      model: 'eye',
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://127.0.0.1:9/a.png' } }] },
      ],
      ...greedy,
    })
    await expect(refused).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/--allow-image-urls/),
    })
  })

  it('refuses more than 10 MiB of images with a 413 naming the limit', async () => {
    const big = `data:image/png;base64,${Buffer.alloc(10 * 1024 * 1024 + 1).toString('base64')}`
    const refused = openai.responses.create({
      model: 'eye',
      max_output_tokens: 4,
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: big, detail: 'auto' }] }],
    })
    await expect(refused).rejects.toMatchObject({ status: 413, message: expect.stringMatching(/10 MiB/) })
  })
})
