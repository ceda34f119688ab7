/**
 * Reasoning and tool turns end to end, through the official `openai` and `@anthropic-ai/sdk` clients,
 * on one `ripple up` whose generated models carry templates from llama.cpp's own collection:
 * DeepSeek-R1 distill and MiniMax-M2 (their templates open the reasoning block, MiniMax's whatever
 * `enable_thinking` says; random weights never close it, so only a budget or max_tokens ends it; MiniMax's
 * also on a SentencePiece tokenizer, where llama.cpp's own budget never starts),
 * Qwen 3 (the model may open it), Mistral Small 3.2 and Gemma 2 (a template that takes no tool turns).
 * Every generation route shows the reasoning apart (chat's `reasoning_content` and its deltas,
 * messages' thinking blocks, responses' reasoning items) and counts its tokens, bounds it on request,
 * constrains the answer after it, and answers a tool-result turn.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { type LlamaCppTemplate, llamaCppTemplate } from '../fixtures/gguf-gen/llama-cpp-templates.ts'
import { isolatedNetwork, type RunningRipple, startRipple } from './ripple-process.ts'

const MODELS: LlamaCppTemplate[] = ['deepseek-r1', 'minimax-m2', 'qwen3', 'mistral-small-3.2', 'gemma2']
let root: string
let peer: RunningRipple
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-reasoning-'))
  const network = await isolatedNetwork(root, 'e2e-reasoning')
  const models = join(root, 'models')
  await mkdir(models, { recursive: true })
  for (const name of MODELS)
    await writeLlamaModel(join(models, `${name}.gguf`), {
      ...TINY_MODEL,
      chatTemplate: await llamaCppTemplate(name),
    })
  // MiniMax-M2's template on a SentencePiece tokenizer: `<think>` tokenized alone is not the prompt's
  // `\n<think>`, so llama.cpp's own budget never starts; Ripple holds it.
  await writeLlamaModel(join(models, 'minimax-m2-sp.gguf'), {
    ...TINY_MODEL,
    chatTemplate: { ...(await llamaCppTemplate('minimax-m2')), spacePrefix: true },
  })
  const dataDir = join(root, 'data')
  const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
  peer = await startRipple([...flags, '--name', 'thinker', '--threads', '1', '--log-level', 'warn'], 60_000)
  const url = /^ripple: api (\S+)$/m.exec(peer.stdout())?.[1] ?? ''
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: url, apiKey: token, maxRetries: 0 })
}, 120_000)

afterAll(async () => {
  if (peer && peer.child.exitCode === null) peer.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

const greedy = { temperature: 0, seed: 5 }
const ask = [{ role: 'user' as const, content: 'What is the weather in Oslo?' }]
const schema = {
  type: 'object',
  // An enum: random weights fill a free string with multi-byte junk until max_tokens.
  properties: { city: { enum: ['Oslo', 'Bergen'] } },
  required: ['city'],
}
const weather = { name: 'weather', description: 'The weather in a city', parameters: schema }

type ChatMessage = { content: string | null; reasoning_content?: string }

/** The question, a call of the weather tool and its result, in chat completions' terms. */
function chatToolTurn(call: OpenAI.ChatCompletionMessageFunctionToolCall = callOf('call_1')) {
  return [
    ...ask,
    { role: 'assistant' as const, content: null, tool_calls: [call] },
    { role: 'tool' as const, tool_call_id: call.id, content: '{"sky": "clear"}' },
  ]
}

function callOf(id: string): OpenAI.ChatCompletionMessageFunctionToolCall {
  return { id, type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }
}

/**
 * The same in Anthropic's terms, for 8 tokens, greedy as every call here (sampled, random weights may
 * end a turn within 8 tokens; the SDK's types have no temperature, Ripple's route takes it).
 */
function messagesToolTurn(model: string): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model,
    max_tokens: 8,
    tools: [{ name: 'weather', input_schema: schema as Anthropic.Tool.InputSchema }],
    messages: [
      { role: 'user', content: 'What is the weather in Oslo?' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'clear' }] },
    ],
    ...greedy,
  } as Anthropic.MessageCreateParamsNonStreaming
}

describe.each(['deepseek-r1', 'minimax-m2'] as const)(
  'a thinking model (%s)',
  { timeout: 120_000 },
  (model) => {
    it('chat completions: reasoning_content apart, streamed as deltas; bounded; length inside it', async () => {
      const whole = await openai.chat.completions.create({ model, messages: ask, max_tokens: 16, ...greedy })
      const message = whole.choices[0]?.message as unknown as ChatMessage
      expect(message.reasoning_content).toBeTruthy()
      expect(message.content).toBe('')
      expect(whole.choices[0]?.finish_reason).toBe('length')
      expect(whole.usage?.completion_tokens_details?.reasoning_tokens).toBe(16)

      const stream = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 32,
        reasoning_effort: 'low', // 1/8 of 32: 4 tokens of reasoning
        stream: true,
        stream_options: { include_usage: true },
        ...greedy,
      })
      let reasoning = ''
      let content = ''
      let order = ''
      let usage: OpenAI.CompletionUsage | undefined
      for await (const chunk of stream) {
        usage = chunk.usage ?? usage
        const delta = chunk.choices[0]?.delta as
          | { content?: string | null; reasoning_content?: string }
          | undefined
        if (delta?.reasoning_content) {
          reasoning += delta.reasoning_content
          if (!order.endsWith('r')) order += 'r'
        }
        if (delta?.content) {
          content += delta.content
          if (!order.endsWith('c')) order += 'c'
        }
      }
      expect(reasoning).not.toBe('')
      expect(reasoning.length).toBeLessThan(16)
      expect(content).not.toBe('')
      expect(order).toBe('rc')
      const reasoningTokens = usage?.completion_tokens_details?.reasoning_tokens ?? 0
      expect(reasoningTokens).toBeGreaterThan(0)
      expect(reasoningTokens).toBeLessThan(usage?.completion_tokens ?? 0)
    })

    it('chat completions: a JSON schema parses after the reasoning; reasoning_effort none turns it off', async () => {
      const json = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 64,
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema } },
        ...greedy,
      })
      const message = json.choices[0]?.message as unknown as ChatMessage
      expect(message.reasoning_content).toBeTruthy()
      expect(JSON.parse(message.content ?? '')).toMatchObject({ city: expect.any(String) })
      const off = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 8,
        reasoning_effort: 'none',
        ...greedy,
      })
      const plain = off.choices[0]?.message as unknown as ChatMessage
      expect(plain.reasoning_content).toBeUndefined()
      expect(plain.content).not.toBe('')
    })

    it('messages: a thinking block first, streamed as thinking_delta; a budget bounds it; disabled turns it off', async () => {
      const params = {
        model,
        max_tokens: 32,
        messages: ask,
        thinking: { type: 'enabled' as const, budget_tokens: 4 },
        ...greedy,
      } as unknown as Anthropic.MessageCreateParamsNonStreaming
      const whole = await anthropic.messages.create(params)
      expect(whole.content.map((b) => b.type)).toEqual(['thinking', 'text'])
      const thinking = whole.content[0] as Anthropic.ThinkingBlock
      expect(thinking.thinking.length).toBeGreaterThan(0)
      expect(thinking.thinking.length).toBeLessThan(16)

      const events: string[] = []
      const stream = anthropic.messages.stream(params)
      stream.on('streamEvent', (e) => {
        if (e.type === 'content_block_delta') events.push(e.delta.type)
      })
      const streamed = await stream.finalMessage()
      expect(streamed.content.map((b) => b.type)).toEqual(['thinking', 'text'])
      expect(events[0]).toBe('thinking_delta')
      expect(events).toContain('text_delta')

      const off = await anthropic.messages.create({
        ...params,
        thinking: { type: 'disabled' },
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      expect(off.content.map((b) => b.type)).toEqual(['text'])
    })

    it('responses: a reasoning item first, streamed as reasoning_text deltas; incomplete inside it', async () => {
      const whole = await openai.responses.create({
        model,
        input: 'Hello?',
        max_output_tokens: 12,
        ...greedy,
      })
      expect(whole.status).toBe('incomplete')
      const item = whole.output[0] as { type: string; content?: { type: string; text: string }[] }
      expect(item.type).toBe('reasoning')
      expect(item.content?.[0]?.text).toBeTruthy()
      expect(whole.usage?.output_tokens_details.reasoning_tokens).toBe(12)

      const stream = await openai.responses.create({
        model,
        input: 'Hello?',
        max_output_tokens: 32,
        reasoning: { effort: 'low' },
        stream: true,
        ...greedy,
      })
      const types: string[] = []
      let done: OpenAI.Responses.Response | null = null
      for await (const event of stream) {
        types.push(event.type)
        if (event.type === 'response.completed' || event.type === 'response.incomplete') done = event.response
      }
      expect(types.indexOf('response.reasoning_text.delta')).toBeGreaterThan(-1)
      expect(types.indexOf('response.reasoning_text.delta')).toBeLessThan(
        types.indexOf('response.output_text.delta'),
      )
      expect(done?.output.map((i) => i.type)).toEqual(['reasoning', 'message'])
    })

    it('a forced call after the reasoning, and a tool-result turn, on each API', async () => {
      const called = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 64,
        tools: [{ type: 'function', function: weather }],
        tool_choice: { type: 'function', function: { name: 'weather' } },
        ...greedy,
      })
      const call = called.choices[0]?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
      expect(JSON.parse(call.function.arguments)).toMatchObject({ city: expect.any(String) })
      const turn = await openai.chat.completions.create({
        model,
        messages: chatToolTurn(call),
        tools: [{ type: 'function', function: weather }],
        max_tokens: 8,
        ...greedy,
      })
      expect(turn.choices[0]?.finish_reason).toBe('length')
      const message = await anthropic.messages.create(messagesToolTurn(model))
      expect(message.stop_reason).toBe('max_tokens')
      const response = await openai.responses.create({
        model,
        max_output_tokens: 8,
        temperature: 0,
        tools: [{ type: 'function', name: 'weather', parameters: schema, strict: false }],
        input: [
          { role: 'user', content: 'What is the weather in Oslo?' },
          { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'clear' },
        ],
      })
      expect(response.status).toBe('incomplete')
    })
  },
)

describe.each(['deepseek-r1', 'minimax-m2', 'minimax-m2-sp'])(
  'a budget held whatever the tokenizer (%s)',
  { timeout: 120_000 },
  (model) => {
    it('reasoning_effort low on 160 tokens: 1/8 of them reasoned, the answer has the rest, on each API', async () => {
      const chat = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 160,
        reasoning_effort: 'low',
        ...greedy,
      })
      const message = chat.choices[0]?.message as unknown as ChatMessage
      expect(message.reasoning_content).toBeTruthy()
      // 20, and what llama.cpp's own budget takes to end the block (docs/models.md, "Reasoning models").
      expect(chat.usage?.completion_tokens_details?.reasoning_tokens).toBeLessThanOrEqual(20 + 8)
      expect(message.content).not.toBe('')
      expect(chat.choices[0]?.finish_reason).toBe('length')
      const response = await openai.responses.create({
        model,
        input: 'What is the weather in Oslo?',
        max_output_tokens: 160,
        reasoning: { effort: 'low' },
        ...greedy,
      })
      expect(response.output.map((i) => i.type)).toEqual(['reasoning', 'message'])
      expect(response.usage?.output_tokens_details.reasoning_tokens).toBeLessThanOrEqual(20 + 8)
      const message2 = await anthropic.messages.create({
        model,
        max_tokens: 160,
        messages: ask,
        thinking: { type: 'enabled', budget_tokens: 20 },
        ...greedy,
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      expect(message2.content.map((b) => b.type)).toEqual(['thinking', 'text'])
    })

    it("max_tokens past the context (an agent's 32000): the reasoning keeps its share of what is left, then the answer", async () => {
      const chat = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: 32_000,
        reasoning_effort: 'low',
        ...greedy,
      })
      const usage = chat.usage as OpenAI.CompletionUsage
      const room = 4096 - usage.prompt_tokens
      expect(chat.choices[0]?.finish_reason).toBe('length')
      // All of it, less the reasoning's text read again where Ripple ended the block itself.
      expect(usage.completion_tokens).toBeLessThanOrEqual(room)
      expect(usage.completion_tokens).toBeGreaterThan(room / 2)
      expect(usage.completion_tokens_details?.reasoning_tokens).toBeLessThanOrEqual(room / 8 + 8)
      expect(chat.choices[0]?.message.content).not.toBe('')
    })
  },
)

describe('templates that do not open the block, or have no parser for tool turns, or take none', {
  timeout: 120_000,
}, () => {
  it('qwen3: no reasoning unless the model opens it; the answer is the content', async () => {
    const answer = await openai.chat.completions.create({
      model: 'qwen3',
      messages: ask,
      max_tokens: 8,
      ...greedy,
    })
    const message = answer.choices[0]?.message as unknown as ChatMessage
    expect(message.reasoning_content).toBeUndefined()
    expect(message.content).not.toBe('')
  })

  it('qwen3: a call forced after a tool-result turn parses', async () => {
    const answer = await openai.chat.completions.create({
      model: 'qwen3',
      messages: chatToolTurn(),
      tools: [{ type: 'function', function: weather }],
      tool_choice: 'required',
      max_tokens: 64,
      ...greedy,
    })
    expect(answer.choices[0]?.finish_reason).toBe('tool_calls')
    const call = answer.choices[0]?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
    expect(call.function.name).toBe('weather')
    expect(JSON.parse(call.function.arguments)).toMatchObject({ city: expect.any(String) })
  })

  it('gemma2: tool turns its template refuses are answered as text, on chat and messages', async () => {
    const chat = await openai.chat.completions.create({
      model: 'gemma2',
      messages: chatToolTurn(),
      tools: [{ type: 'function', function: weather }],
      max_tokens: 8,
      ...greedy,
    })
    expect(chat.choices[0]?.finish_reason).toBe('length')
    expect(chat.choices[0]?.message.content).not.toBe('')
    const message = await anthropic.messages.create(messagesToolTurn('gemma2'))
    expect(message.stop_reason).toBe('max_tokens')
    expect(message.content.map((b) => b.type)).toEqual(['text'])
  })

  it('mistral-small-3.2: a tool-result turn is answered, not refused for capacity', async () => {
    const answer = await openai.chat.completions.create({
      model: 'mistral-small-3.2',
      messages: chatToolTurn(callOf('abcdefghi')),
      tools: [{ type: 'function', function: weather }],
      max_tokens: 8,
      ...greedy,
    })
    expect(answer.choices[0]?.finish_reason).toBe('length')
    expect(answer.choices[0]?.message.content).not.toBe('')
  })
})
