/**
 * The OpenAI- and Anthropic-compatible endpoint, through the official clients (`openai`,
 * `@anthropic-ai/sdk`), against three `ripple up` processes on loopback: the client talks to the
 * first peer, only the third holds the models (the tiny generated one, with the chat template of each
 * common family: ChatML, Llama 3, Mistral, Phi-3, Gemma and a plain <|role|> one). Answers must equal
 * what the same model file, seed and greedy settings give when the engine (llama-server) runs here
 * directly; every /v1 API runs on every template.
 */
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServedView } from '../../host/api/contract/index.ts'
import type { EngineModel } from '../../host/inference/engine/engine-model.ts'
import {
  CHAT_TEMPLATE_FAMILIES,
  type ChatTemplateFamily,
} from '../../host/inference/gguf-gen/chat-templates.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { writeProjector } from '../fixtures/gguf-gen/mmproj-generator.ts'
import { type ModelServer, startModelServer } from '../fixtures/model-server.ts'
import { type ModelsFixture, modelsFixture } from '../unit/inference/inference-fixtures.ts'
import { eventually, isolatedNetwork, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

type Peer = RunningRipple & { dataDir: string; agent: string; url: string; token: string }

let root: string
let first: Peer
let second: Peer
let third: Peer
let openai: OpenAI
let anthropic: Anthropic
let local: ModelsFixture
let files: ModelServer
/** A Hugging Face stand-in (the daemons reach it through HF_ENDPOINT, set before they start). */
let hf: ModelServer

const TINY_EMBEDDING = 64

/** The model with the family's template: `tiny` is ChatML's (the generator's default). */
const modelFor = (family: ChatTemplateFamily) => (family === 'chatml' ? 'tiny' : `tiny-${family}`)

async function writeFamilies(dir: string): Promise<void> {
  for (const family of CHAT_TEMPLATE_FAMILIES)
    await writeLlamaModel(join(dir, `${modelFor(family)}.gguf`), { ...TINY_MODEL, chatTemplate: family })
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-openai-'))
  hf = await startModelServer('127.0.0.2')
  process.env.HF_ENDPOINT = `${hf.url}/`
  const network = await isolatedNetwork(root, 'e2e-openai')
  const start = async (name: string): Promise<Peer> => {
    const dataDir = join(root, name)
    const models = join(root, `${name}-models`)
    await mkdir(models, { recursive: true })
    if (name === 'third') await writeFamilies(models)
    const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
    const daemon = await startRipple(
      [...flags, '--name', name, '--threads', '1', '--log-level', 'warn'],
      90_000,
    )
    const line = (key: string) => new RegExp(`^ripple: ${key} (\\S+)$`, 'm').exec(daemon.stdout())?.[1] ?? ''
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
    return { ...daemon, dataDir, agent: line('agent'), url: line('api'), token }
  }
  ;[first, second, third] = await Promise.all([start('first'), start('second'), start('third')])
  openai = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: first.token, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: first.url, apiKey: first.token, maxRetries: 0 })
  local = await modelsFixture()
  await writeFamilies(local.dir)
  files = await startModelServer()
  // The first peer must know the third's capability (with the model) before anything can be asked.
  for (const deadline = Date.now() + 60_000; ; ) {
    const models = await openai.models.list()
    if (models.data.some((m) => m.id === 'tiny')) break
    if (Date.now() > deadline) throw new Error('the first peer never saw the model of the third')
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}, 180_000)

afterAll(async () => {
  for (const d of [first, second, third]) if (d && d.child.exitCode === null) d.child.kill('SIGKILL')
  await local?.close()
  await files?.close()
  await hf?.close()
  await rm(root, { recursive: true, force: true })
})

const ask = [{ role: 'user' as const, content: 'Tell me about the mesh.' }]
// Bounded strings: greedy sampling on random weights may otherwise never close one.
const weather = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 24 }, days: { type: 'integer' } },
  required: ['city', 'days'],
}

/** What a request that must fail threw: the clients' APIError (status, error body, message). */
function failure(request: Promise<unknown>): Promise<{ status: number; error: unknown; message: string }> {
  return request.then(
    () => {
      throw new Error('the request succeeded')
    },
    (err: unknown) => err as { status: number; error: unknown; message: string },
  )
}

/** Anthropic's params as this endpoint takes them (the SDK's types no longer list temperature). */
const params = (p: Record<string, unknown>) => p as unknown as Anthropic.MessageCreateParamsNonStreaming

/**
 * The same generation run here, on the engine directly: asked whole, or streamed to compare with a
 * streamed answer (llama-server's stream never sends a tail it reads as a character cut short, which
 * its whole answer keeps as U+FFFD: the generated models write such bytes).
 */
async function direct(model: string, request: Parameters<EngineModel['generate']>[0], streamed = false) {
  return (await local.manager.load(model)).generate(request, streamed ? { onEvent: () => {} } : {})
}

describe.each(CHAT_TEMPLATE_FAMILIES)(
  'the endpoint on the first of three peers, the model on the third (%s chat template)',
  { timeout: 120_000 },
  (family) => {
    const model = modelFor(family)

    it('lists the models of the whole mesh, with the peers that have them', async () => {
      const models = await openai.models.list()
      const entry = models.data.find((m) => m.id === model) as unknown as {
        object: string
        ripple: { peers: string[]; file_hashes: string[]; parameters: number; context_length: number }
      }
      expect(entry.object).toBe('model')
      expect(entry.ripple.peers).toEqual([third.agent])
      const sha = createHash('sha256')
        .update(await readFile(join(root, 'third-models', `${model}.gguf`)))
        .digest('hex')
      expect(entry.ripple.file_hashes).toEqual([sha])
      expect(entry.ripple.context_length).toBe(4096)
      expect((await openai.models.retrieve(model)).id).toBe(model)
    })

    it('answers a chat completion on the third peer with what the engine gives directly', async () => {
      const { data, response } = await openai.chat.completions
        .create({ model, messages: ask, max_tokens: 16, temperature: 0, seed: 7 })
        .withResponse()
      const expected = await direct(model, { messages: ask, max_tokens: 16, temperature: 0, seed: 7 })
      expect(data.choices[0]?.message.content).toBe(expected.text)
      expect(data.choices[0]?.finish_reason).toBe(expected.stop_reason === 'max_tokens' ? 'length' : 'stop')
      expect(data.usage?.completion_tokens).toBe(expected.generated_tokens)
      expect(data.usage?.prompt_tokens).toBe(expected.prompt_tokens)
      // The request went straight to the third peer; its record followed: the third peer signed its
      // leaf (the output served, the model file) in a batch, and the first peer's record accepts it.
      expect(response.headers.get('x-ripple-peer')).toBe(third.agent)
      const request = response.headers.get('x-ripple-task') ?? ''
      const show = await runRipple(['task', 'show', request, '--data-dir', first.dataDir, '--json'])
      const record = JSON.parse(show.stdout) as ServedView
      expect(record.served?.batch.author).toBe(first.agent)
      expect(record.served?.leaf).toMatchObject({ request, runner: third.agent, accepted: true, model })
      expect(record.served?.runner_batch?.author).toBe(third.agent)
      expect(record.checks.served?.valid).toBe(true)
      const leaf = record.served?.leaf.proof?.leaf
      expect(leaf?.output_hash).toBe(record.served?.leaf.output_hash)
      expect(leaf?.tokens_out).toBe(data.usage?.completion_tokens)
      expect(leaf?.model_file_hash).toBe(
        createHash('sha256')
          .update(await readFile(join(root, 'third-models', `${model}.gguf`)))
          .digest('hex'),
      )
    })

    it('streams a chat completion as chunks, ending with the usage', async () => {
      const stream = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 16,
        temperature: 0,
        seed: 7,
        stream: true,
        stream_options: { include_usage: true },
      })
      let text = ''
      let usage: OpenAI.CompletionUsage | null | undefined = null
      let finish: string | null = null
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? ''
        finish = chunk.choices[0]?.finish_reason ?? finish
        usage = chunk.usage ?? usage
      }
      const expected = await direct(model, { messages: ask, max_tokens: 16, temperature: 0, seed: 7 }, true)
      expect(text).toBe(expected.text)
      expect(finish).toBe('length')
      expect(usage?.completion_tokens).toBe(expected.generated_tokens)
    })

    it('gives json_schema output that parses and matches the schema', async () => {
      // A bounded string: greedy sampling on random weights may otherwise never close it.
      const schema = {
        type: 'object',
        properties: { answer: { type: 'string', maxLength: 24 }, confident: { type: 'boolean' } },
        required: ['answer', 'confident'],
      }
      const data = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 200,
        temperature: 0,
        response_format: { type: 'json_schema', json_schema: { name: 'reply', schema } },
      })
      const parsed = JSON.parse(data.choices[0]?.message.content ?? '')
      expect(Object.keys(parsed).sort()).toEqual(['answer', 'confident'])
      expect(typeof parsed.answer).toBe('string')
      expect(typeof parsed.confident).toBe('boolean')
    })

    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'the weather', parameters: weather },
      },
    ]
    const expectWeatherArguments = (json: string) => {
      const args = JSON.parse(json)
      expect(Object.keys(args).sort()).toEqual(['city', 'days'])
      expect(typeof args.city).toBe('string')
      expect(Number.isInteger(args.days)).toBe(true)
    }

    it('forces a tool call whose arguments parse and match, streamed and not', async () => {
      const request = {
        model,
        messages: ask,
        max_tokens: 200,
        temperature: 0,
        tools,
        tool_choice: { type: 'function' as const, function: { name: 'get_weather' } },
      }
      const data = await openai.chat.completions.create(request)
      const [call] = data.choices[0]?.message.tool_calls ?? []
      expect(data.choices[0]?.finish_reason).toBe('tool_calls')
      expect(call?.type === 'function' && call.function.name).toBe('get_weather')
      expectWeatherArguments(call?.type === 'function' ? call.function.arguments : '')

      const stream = await openai.chat.completions.create({ ...request, stream: true })
      let args = ''
      let name = ''
      for await (const chunk of stream) {
        for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
          name += delta.function?.name ?? ''
          args += delta.function?.arguments ?? ''
        }
      }
      expect(name).toBe('get_weather')
      expect(args).toBe(call?.type === 'function' ? call.function.arguments : '')
    })

    it('calls one of several tools with tool_choice required, and auto with the calls the engine makes', async () => {
      const several: OpenAI.ChatCompletionTool[] = [
        ...tools,
        {
          type: 'function',
          function: {
            name: 'get_time',
            parameters: {
              type: 'object',
              properties: { zone: { type: 'string', maxLength: 8 } },
              required: ['zone'],
            },
          },
        },
      ]
      const required = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 200,
        temperature: 0,
        tools: several,
        tool_choice: 'required',
      })
      const [call] = required.choices[0]?.message.tool_calls ?? []
      expect(required.choices[0]?.finish_reason).toBe('tool_calls')
      if (call?.type !== 'function') throw new Error('no call')
      expect(['get_weather', 'get_time']).toContain(call.function.name)
      expect(typeof JSON.parse(call.function.arguments)).toBe('object')

      const auto = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 16,
        temperature: 0,
        seed: 7,
        tools: several,
      })
      const expected = await direct(model, {
        messages: ask,
        max_tokens: 16,
        temperature: 0,
        seed: 7,
        tools: several.map((t) =>
          t.type === 'function'
            ? {
                name: t.function.name,
                ...(t.function.description ? { description: t.function.description } : {}),
                parameters: t.function.parameters,
              }
            : { name: '' },
        ),
        tool_choice: 'auto',
      })
      const choice = auto.choices[0]
      expect(
        choice?.message.tool_calls?.map((c) => (c.type === 'function' ? c.function.name : '')) ?? [],
      ).toEqual(expected.tool_calls.map((c) => c.name))
      // Without a call, the free text of random weights beside tools is not compared: which way a
      // near tie goes there depends on how much of the prompt the slot had cached (llama.cpp's
      // arithmetic over a cached prefix is not bit-identical to one batch), and on whether llama.cpp's
      // lazy tool-call grammar fired. The answer is still text, cut at max_tokens.
      if (expected.tool_calls.length === 0) {
        expect(choice?.message.content?.length).toBeGreaterThan(0)
        expect(choice?.finish_reason).toBe('length')
      }
    })

    it('says output cut by max_tokens is cut: finish_reason length with the text as produced', async () => {
      const cut = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 3,
        temperature: 0,
        response_format: { type: 'json_schema', json_schema: { name: 'reply', schema: weather } },
      })
      expect(cut.choices[0]?.finish_reason).toBe('length')
      expect(cut.choices[0]?.message.content?.startsWith('{')).toBe(true)
      const call = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 3,
        temperature: 0,
        tools,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      })
      expect(call.choices[0]?.finish_reason).toBe('length')
      expect(call.choices[0]?.message.tool_calls ?? []).toEqual([])
      expect(call.choices[0]?.message.content?.startsWith('{')).toBe(true)
    })

    it("embeds texts into vectors of the model's dimension, as floats and base64", async () => {
      const floats = await openai.embeddings.create({
        model,
        input: ['one', 'two'],
        encoding_format: 'float',
      })
      expect(floats.data.map((d) => d.embedding.length)).toEqual([TINY_EMBEDDING, TINY_EMBEDDING])
      // The client asks for base64 by default and decodes it.
      const decoded = await openai.embeddings.create({ model, input: 'one' })
      expect(decoded.data[0]?.embedding).toHaveLength(TINY_EMBEDDING)
      // base64 carries float32s: the same vector, at float32 precision.
      expect(decoded.data[0]?.embedding).toEqual([...new Float32Array(floats.data[0]?.embedding ?? [])])
    })

    it('completes a raw prompt (/v1/completions) as the engine does', async () => {
      const data = await openai.completions.create({
        model,
        prompt: 'Once',
        max_tokens: 12,
        temperature: 0,
        seed: 1,
      })
      const expected = await direct(model, { prompt: 'Once', max_tokens: 12, temperature: 0, seed: 1 })
      expect(data.choices[0]?.text).toBe(expected.text)
    })

    it('answers the Responses API: text, and a tool call round trip, streamed and not', async () => {
      const text = await openai.responses.create({
        model,
        input: 'Tell me about the mesh.',
        max_output_tokens: 16,
        temperature: 0,
        seed: 7,
      } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      const expected = await direct(model, { messages: ask, max_tokens: 16, temperature: 0, seed: 7 })
      expect(text.output_text).toBe(expected.text)

      const responseTools: OpenAI.Responses.Tool[] = [
        { type: 'function', name: 'get_weather', parameters: weather, strict: false },
      ]
      const called = await openai.responses.create({
        model,
        input: 'Weather in Paris?',
        max_output_tokens: 200,
        temperature: 0,
        tools: responseTools,
        tool_choice: 'required',
      })
      const call = called.output.find((o) => o.type === 'function_call')
      expect(call?.type === 'function_call' && call.name).toBe('get_weather')
      expectWeatherArguments(call?.type === 'function_call' ? call.arguments : '')

      if (call?.type !== 'function_call') throw new Error('no call')
      const answered = await openai.responses.create({
        model,
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
        ],
        max_output_tokens: 8,
        temperature: 0,
        tools: responseTools,
      })
      expect(answered.status).toBe('incomplete')
      expect(answered.output_text.length).toBeGreaterThan(0)

      const stream = await openai.responses.create({
        model,
        input: 'Tell me about the mesh.',
        max_output_tokens: 16,
        temperature: 0,
        seed: 7,
        stream: true,
      } as OpenAI.Responses.ResponseCreateParamsStreaming)
      let streamed = ''
      const types = new Set<string>()
      for await (const event of stream) {
        types.add(event.type)
        if (event.type === 'response.output_text.delta') streamed += event.delta
      }
      const expectedStreamed = await direct(
        model,
        { messages: ask, max_tokens: 16, temperature: 0, seed: 7 },
        true,
      )
      expect(streamed).toBe(expectedStreamed.text)
      expect(types).toContain('response.created')
      expect(types).toContain('response.output_text.done')
    })

    it("answers Anthropic's Messages API: text, tool_use and a tool_result round trip, streamed and not", async () => {
      const request = params({ model, max_tokens: 16, temperature: 0, messages: ask, seed: 7 })
      const message = await anthropic.messages.create(request)
      const expected = await direct(model, { messages: ask, max_tokens: 16, temperature: 0, seed: 7 })
      expect(message.content).toEqual([{ type: 'text', text: expected.text }])
      expect(message.stop_reason).toBe('max_tokens')
      expect(message.usage.output_tokens).toBe(expected.generated_tokens)

      const streamed = await anthropic.messages.stream(request).finalMessage()
      const expectedStreamed = await direct(
        model,
        { messages: ask, max_tokens: 16, temperature: 0, seed: 7 },
        true,
      )
      expect(streamed.content).toEqual([{ type: 'text', text: expectedStreamed.text }])

      const tool = {
        name: 'get_weather',
        description: 'the weather',
        input_schema: weather as Anthropic.Tool.InputSchema,
      }
      const used = await anthropic.messages.create(
        params({
          model,
          max_tokens: 200,
          temperature: 0,
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
          tools: [tool],
          tool_choice: { type: 'tool', name: 'get_weather' },
        }),
      )
      expect(used.stop_reason).toBe('tool_use')
      const use = used.content.find((b) => b.type === 'tool_use')
      if (use?.type !== 'tool_use') throw new Error('no tool_use')
      expectWeatherArguments(JSON.stringify(use.input))

      const usedStreamed = await anthropic.messages
        .stream(
          params({
            model,
            max_tokens: 200,
            temperature: 0,
            messages: [{ role: 'user', content: 'Weather in Paris?' }],
            tools: [tool],
            tool_choice: { type: 'tool', name: 'get_weather' },
          }),
        )
        .finalMessage()
      // The same call (its id names the other task).
      expect(usedStreamed.content.find((b) => b.type === 'tool_use')).toMatchObject({
        name: use.name,
        input: use.input,
      })

      const after = await anthropic.messages.create(
        params({
          model,
          max_tokens: 8,
          temperature: 0,
          tools: [tool],
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            { role: 'assistant', content: [use] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] },
          ],
        }),
      )
      expect(after.content[0]?.type).toBe('text')
      expect(after.usage.output_tokens).toBeGreaterThan(0)
    })
  },
)

describe('errors, in each API’s own shape', { timeout: 60_000 }, () => {
  it('400 names the field at fault (a prompt over the runner’s context too); 404 an unknown model; 401 a missing or wrong key', async () => {
    const bad = await failure(
      openai.chat.completions.create({ model: 'tiny', messages: ask, temperature: 7 }),
    )
    expect(bad.status).toBe(400)
    expect(bad.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'temperature',
      code: 'invalid_value',
    })

    const unknown = await failure(openai.chat.completions.create({ model: 'llama-70b', messages: ask }))
    expect(unknown.status).toBe(404)
    expect(unknown.error).toMatchObject({ param: 'model', code: 'model_not_found' })

    const anthropicUnknown = await failure(
      anthropic.messages.create({ model: 'llama-70b', max_tokens: 4, messages: ask }),
    )
    expect(anthropicUnknown.status).toBe(404)
    expect(anthropicUnknown.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })

    const anthropicBad = await failure(
      anthropic.messages.create({
        model: 'tiny',
        messages: ask,
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    )
    expect(anthropicBad.status).toBe(400)
    expect(anthropicBad.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })

    const wrong = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: 'rpl_000000000000_nope', maxRetries: 0 })
    const refused = await failure(wrong.models.list())
    expect(refused.status).toBe(401)
    expect(refused.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' })
    const wrongAnthropic = new Anthropic({ baseURL: first.url, apiKey: 'nope', maxRetries: 0 })
    const refusedAnthropic = await failure(
      wrongAnthropic.messages.create({ model: 'tiny', max_tokens: 4, messages: ask }),
    )
    expect(refusedAnthropic.status).toBe(401)
    expect(refusedAnthropic.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })

    // The runner (the third peer) found the prompt over its context: the caller's mistake, said over
    // the mesh, not a peer that could not run it.
    const long = [{ role: 'user' as const, content: 'hello world '.repeat(8000) }]
    const overflow = await failure(openai.chat.completions.create({ model: 'tiny', messages: long }))
    expect(overflow.status).toBe(400)
    expect(overflow.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
      message: expect.stringMatching(/^the prompt is \d+ tokens, over the \d+-token context/),
    })

    // An unknown route under /v1 and bad JSON are the API's errors too.
    const res = await fetch(`${first.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
      body: '{not json',
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error')
  })
})

describe('API keys', { timeout: 60_000 }, () => {
  it('are accepted, refused when wrong, revoked or scoped to another model', async () => {
    const create = async (...flags: string[]) => {
      const res = await runRipple(['keys', 'create', '--data-dir', first.dataDir, ...flags])
      expect(res.code, res.stderr).toBe(0)
      return res.stdout.trim()
    }
    const key = await create('--name', 'agent', '--expires', '30d')
    const scoped = await create('--models', 'other-model')
    const withKey = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: key, maxRetries: 0 })
    const reply = await withKey.chat.completions.create({
      model: 'tiny',
      messages: ask,
      max_tokens: 2,
      temperature: 0,
    })
    expect(reply.choices[0]?.message.content).toBeTypeOf('string')
    // Anthropic clients send the key as x-api-key.
    const anthropicWithKey = new Anthropic({ baseURL: first.url, apiKey: key, maxRetries: 0 })
    expect(
      (await anthropicWithKey.messages.create({ model: 'tiny', max_tokens: 2, messages: ask })).type,
    ).toBe('message')

    const withScoped = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: scoped, maxRetries: 0 })
    const outOfScope = await failure(
      withScoped.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 2 }),
    )
    expect(outOfScope.status).toBe(403)
    expect(outOfScope.error).toMatchObject({ code: 'model_not_allowed', param: 'model' })
    expect((await withScoped.models.list()).data).toEqual([])

    // A key is no management token: it reaches /v1 and /mcp only, on loopback too.
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    for (const path of ['/api/status', '/api/tasks', '/metrics']) {
      const read = await fetch(`${first.url}${path}`, { headers: auth })
      expect(read.status, path).toBe(403)
      expect(await read.json(), path).toMatchObject({ error: { name: 'KeyNotAllowedError' } })
    }
    const change = await fetch(`${first.url}/api/models/tiny/load`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    })
    expect(change.status).toBe(403)

    const ls = await runRipple(['keys', 'ls', '--data-dir', first.dataDir, '--json'])
    const listed = JSON.parse(ls.stdout) as { id: string; name: string | null }[]
    expect(JSON.stringify(listed)).not.toContain(key)
    const id = listed.find((k) => k.name === 'agent')?.id ?? ''
    expect((await runRipple(['keys', 'revoke', id, '--data-dir', first.dataDir])).code).toBe(0)
    const revoked = await failure(withKey.models.list())
    expect(revoked.status).toBe(401)
    expect(revoked.message).toContain(`API key ${id} was revoked`)
  })
})

describe('ripple models pull', { timeout: 90_000 }, () => {
  it('pulls a model into the second peer, which then serves it too; refuses a corrupt file with the reason', async () => {
    const bytes = await readFile(join(root, 'third-models', 'tiny.gguf'))
    files.put('/models/pulled.gguf', bytes)
    const pulled = await runRipple([
      'models',
      'pull',
      `${files.url}/models/pulled.gguf`,
      '--data-dir',
      second.dataDir,
    ])
    expect(pulled.code, pulled.stderr).toBe(0)
    expect(pulled.stdout).toMatch(/^pulled pulled \(/)
    expect(pulled.stderr).toMatch(/ripple: pulling \[#{30}\] 100%/)
    for (const deadline = Date.now() + 30_000; ; ) {
      const models = await openai.models.list()
      const entry = models.data.find((m) => m.id === 'pulled') as unknown as
        | { ripple: { peers: string[] } }
        | undefined
      if (entry?.ripple.peers.includes(second.agent)) break
      if (Date.now() > deadline) throw new Error('the pulled model was never advertised')
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    const { response } = await openai.chat.completions
      .create({ model: 'pulled', messages: ask, max_tokens: 2, temperature: 0 })
      .withResponse()
    expect(response.headers.get('x-ripple-peer')).toBe(second.agent)

    const corrupt = Buffer.from(bytes)
    corrupt.fill(0, 0, 4)
    files.put('/models/corrupt.gguf', corrupt)
    const refused = await runRipple([
      'models',
      'pull',
      `${files.url}/models/corrupt.gguf`,
      '--data-dir',
      second.dataDir,
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/refused .*corrupt\.gguf: not a usable GGUF model/)
  })

  it("pulls a vision model with the projector its repository's manifest names, and serves it as such", async () => {
    const bytes = await readFile(join(root, 'third-models', 'tiny.gguf'))
    await writeProjector(join(root, 'mmproj.gguf'), { textEmbedding: 64 })
    hf.put('/someone/tiny-vision/resolve/main/tiny-vision.Q8_0.gguf', bytes)
    hf.put(
      '/someone/tiny-vision/resolve/main/mmproj-tiny-f16.gguf',
      await readFile(join(root, 'mmproj.gguf')),
    )
    hf.manifest('someone', 'tiny-vision', 'Q8_0', 'tiny-vision.Q8_0.gguf', 'mmproj-tiny-f16.gguf')
    const pulled = await runRipple([
      'models',
      'pull',
      'hf:someone/tiny-vision:Q8_0',
      '--name',
      'seeing',
      '--data-dir',
      second.dataDir,
    ])
    expect(pulled.code, pulled.stderr).toBe(0)
    expect(pulled.stdout).toMatch(
      /^pulled seeing \(.*\)\nwith its projector \S+seeing\.mmproj\.gguf: it takes images\n$/,
    )
    await eventually(async () => {
      const entry = (await openai.models.list()).data.find((m) => m.id === 'seeing') as unknown as
        | { ripple: { vision: boolean; peers: string[] } }
        | undefined
      expect(entry?.ripple).toMatchObject({ vision: true, peers: [second.agent] })
    }, 30_000)
  })
})
