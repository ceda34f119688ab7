/**
 * A thinking model's reasoning on each API, as translated: the bound a request asks for (OpenAI's
 * `reasoning_effort`, the Responses API's `reasoning.effort`, Anthropic's `thinking`), and the reasoning
 * shown apart from the answer, whole and streamed (each block or item opened as its first piece comes;
 * reasoning the mesh did not stream goes out at the finish, before the end).
 */
import { describe, expect, it } from 'vitest'
import {
  anthropicMessage,
  MessagesRequestSchema,
  messagesCall,
  messagesStream,
} from '../../../host/api/openai/anthropic-messages.ts'
import {
  ChatChunks,
  ChatCompletionRequestSchema,
  chatCompletion,
  chatCompletionCall,
} from '../../../host/api/openai/chat-completions.ts'
import type { GenerateOutput } from '../../../host/api/openai/generation.ts'
import { ResponseRequestSchema, response, responseCall } from '../../../host/api/openai/responses.ts'
import { responseStream } from '../../../host/api/openai/responses-stream.ts'
import type { SseEvent } from '../../../host/api/openai/serve-task.ts'
import { generateOutput } from './fixtures.ts'

const id = { task: 'uhCkkTASKHASH0123456789abcdef', model: 'r1', created: 1 }
const ask = [{ role: 'user' as const, content: 'q' }]

/** A thinking model's answer: its reasoning apart from its text. */
function output(over: Partial<GenerateOutput> = {}): GenerateOutput {
  const base = generateOutput()
  return generateOutput({
    text: 'answer',
    reasoning: 'because',
    model: { ...base.model, name: 'r1' },
    params: { ...base.params, max_tokens: 64 },
    timings: { ...base.timings, generated_tokens: 9, reasoning_tokens: 6 },
    ...over,
  })
}

const typesOf = (events: SseEvent[]) => events.map((e) => (e.data as { type: string }).type)

describe('the bound a request asks for', () => {
  it.each([
    ['none', 0],
    ['low', 8],
    ['high', 32],
  ] as const)('reasoning_effort %s of 64 tokens is a budget of %i (chat and responses)', (effort, budget) => {
    const chat = chatCompletionCall(
      ChatCompletionRequestSchema.parse({
        model: 'r1',
        messages: ask,
        max_tokens: 64,
        reasoning_effort: effort,
      }),
    )
    expect(chat.input.reasoning_budget).toBe(budget)
    const responses = responseCall(
      ResponseRequestSchema.parse({ model: 'r1', input: 'q', max_output_tokens: 64, reasoning: { effort } }),
    )
    expect(responses.input.reasoning_budget).toBe(budget)
  })

  it('takes Anthropic’s thinking budget, disabled as 0, and none given as the model’s own way', () => {
    const call = (thinking?: unknown) =>
      messagesCall(MessagesRequestSchema.parse({ model: 'r1', max_tokens: 64, messages: ask, thinking }))
    expect(call({ type: 'enabled', budget_tokens: 12 }).input.reasoning_budget).toBe(12)
    expect(call({ type: 'disabled' }).input.reasoning_budget).toBe(0)
    expect(call().input.reasoning_budget).toBeUndefined()
    expect(
      chatCompletionCall(ChatCompletionRequestSchema.parse({ model: 'r1', messages: ask })).input
        .reasoning_budget,
    ).toBeUndefined()
  })

  it('drops reasoning sent back in a conversation (thinking blocks, reasoning items)', () => {
    const messages = messagesCall(
      MessagesRequestSchema.parse({
        model: 'r1',
        max_tokens: 8,
        messages: [
          ...ask,
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'x', signature: 's' },
              { type: 'text', text: 'a' },
            ],
          },
          { role: 'user', content: 'more' },
        ],
      }),
    )
    expect(messages.input.messages?.[1]).toEqual({ role: 'assistant', content: 'a' })
    const responses = responseCall(
      ResponseRequestSchema.parse({
        model: 'r1',
        input: [
          { role: 'user', content: 'q' },
          { type: 'reasoning', id: 'rs_1', summary: [] },
        ],
      }),
    )
    expect(responses.input.messages).toEqual([{ role: 'user', content: 'q' }])
  })
})

describe('the reasoning shown apart', () => {
  it('is reasoning_content beside the content, thinking block and reasoning item first', () => {
    const o = output()
    expect(chatCompletion(id, o).choices[0]?.message).toMatchObject({
      content: 'answer',
      reasoning_content: 'because',
    })
    expect(chatCompletion(id, output({ reasoning: '' })).choices[0]?.message).not.toHaveProperty(
      'reasoning_content',
    )
    expect(anthropicMessage(id, { messages: ask, max_tokens: 8, temperature: 0 }, o).content).toEqual([
      { type: 'thinking', thinking: 'because', signature: id.task },
      { type: 'text', text: 'answer' },
    ])
    const items = response(id, o).output
    expect(items.map((i) => i.type)).toEqual(['reasoning', 'message'])
    expect(items[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'because' }] })
  })

  it('counts its tokens in the usage: completion_tokens_details and output_tokens_details', () => {
    const o = output()
    expect(chatCompletion(id, o).usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 9,
      total_tokens: 14,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 6 },
    })
    const input = { messages: ask, max_tokens: 8, temperature: 0 }
    const streamed = new ChatChunks(id, input, true).finish(o).at(-1) as { usage?: unknown }
    expect(streamed.usage).toEqual(chatCompletion(id, o).usage)
    expect(response(id, o).usage).toMatchObject({
      output_tokens: 9,
      output_tokens_details: { reasoning_tokens: 6 },
    })
  })

  it('streams as delta.reasoning_content, the rest of it at the finish when not streamed', () => {
    const input = { messages: ask, max_tokens: 8, temperature: 0 }
    const chunks = new ChatChunks(id, input, false)
    const live = [...chunks.reasoning('bec'), ...chunks.token('answer'), ...chunks.finish(output())]
    const deltas = live.map((c) => c.choices[0]?.delta as Record<string, string>)
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('because')
    expect(deltas[0]).toEqual({ reasoning_content: 'bec' })
  })

  it('streams Anthropic’s thinking block first (thinking_delta, signature_delta), then the text block', () => {
    const input = { messages: ask, max_tokens: 8, temperature: 0 }
    const stream = messagesStream(id, input, () => ({ error: {} }))
    const events = [
      ...stream.start(),
      ...stream.render({ type: 'reasoning', text: 'because' }),
      ...stream.render({ type: 'token', text: 'answer' }),
      ...stream.render({ type: 'done', output: output() }),
    ]
    expect(typesOf(events)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    const data = events.map((e) => e.data as { index?: number; delta?: { type: string } })
    expect(data[1]).toMatchObject({ index: 0, content_block: { type: 'thinking' } })
    expect(data[2]?.delta?.type).toBe('thinking_delta')
    expect(data[3]?.delta?.type).toBe('signature_delta')
    expect(data[5]).toMatchObject({ index: 1, content_block: { type: 'text' } })
  })

  it('streams the reasoning item first, and ends with the items in the order sent', () => {
    const input = { messages: ask, max_tokens: 8, temperature: 0 }
    const stream = responseStream(id, input, () => ({ error: {} }))
    const events = [
      ...stream.start(),
      ...stream.render({ type: 'reasoning', text: 'because' }),
      ...stream.render({ type: 'token', text: 'answer' }),
      ...stream.render({ type: 'done', output: output() }),
    ]
    const types = typesOf(events)
    expect(types.indexOf('response.reasoning_text.delta')).toBeLessThan(
      types.indexOf('response.output_text.delta'),
    )
    const last = events.at(-1)?.data as { response: { output: { type: string }[] } }
    expect(last.response.output.map((i) => i.type)).toEqual(['reasoning', 'message'])
    const seq = events.map((e) => (e.data as { sequence_number: number }).sequence_number)
    expect(seq).toEqual(seq.map((_, i) => i))
  })
})
