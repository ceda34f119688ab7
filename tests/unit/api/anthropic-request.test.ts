/**
 * Anthropic's requests as Claude Code sends them, translated into the worker's input: the system
 * prompt gathered from `system` and system-role messages, thinking and effort as a budget, server
 * tools left out and named, blocks the model cannot see dropped and named, max_tokens clamped,
 * context management applied or named as not. The texts are this test's own; the shapes are Claude
 * Code 2.1's.
 */
import { describe, expect, it } from 'vitest'
import {
  CountTokensRequestSchema,
  countTokensCall,
  MessagesRequestSchema,
  messagesCall,
} from '../../../host/api/openai/anthropic-messages.ts'
import { ChatCompletionRequestSchema, chatCompletionCall } from '../../../host/api/openai/chat-completions.ts'
import { MAX_TOKENS } from '../../../host/api/openai/generation.ts'
import { ResponseRequestSchema, responseCall } from '../../../host/api/openai/responses.ts'
import { claudeCodeRequest, schema } from './anthropic-fixtures.ts'

const PNG = 'iVBORw0KGgo='

const call = (body: Record<string, unknown>) => messagesCall(MessagesRequestSchema.parse(body))
const ask = [{ role: 'user', content: 'q' }]

describe("Claude Code's requests", () => {
  it('translates its first request: one system prompt, the user turn last, omitted thinking, 20 tools', () => {
    const c = call(claudeCodeRequest())
    expect(c.stream).toBe(true)
    expect(c.input.messages).toEqual([
      {
        role: 'system',
        content:
          'x-anthropic-billing-header: cc_version=9.9.9; cch=fffff;You are a helper.\nBe brief.\n# Place\nA test.',
      },
      { role: 'user', content: '<reminder>a note</reminder>\nsay hi' },
    ])
    expect(c.input).toMatchObject({ max_tokens: 32000, temperature: 1, reasoning_budget: 16000 })
    expect(c.input.tools?.map((t) => t.name)).toEqual(Array.from({ length: 20 }, (_, i) => `Tool${i}`))
    expect(c.input.tools?.[19]?.description).toHaveLength(4096 + 1900)
    expect(c.reply).toEqual({
      thinking: 'omitted',
      contextManagement: {
        applied_edits: [
          { type: 'clear_thinking_20251015', cleared_thinking_turns: 0, cleared_input_tokens: 0 },
        ],
      },
    })
    expect(c.ignored).toEqual(['tool web_search (web_search_20250305: a server tool no peer runs)'])
  })

  it('translates the tool loop’s next request: the call, its result, the thinking sent back dropped', () => {
    const c = call(
      claudeCodeRequest({
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'read a.txt' }] },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: '', signature: 'uhCkkTASK' },
              { type: 'text', text: 'Reading.' },
              { type: 'tool_use', id: 'toolu_1', name: 'Tool3', input: { path: 'a.txt' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [{ type: 'text', text: '1\tline one', cache_control: { type: 'ephemeral' } }],
              },
            ],
          },
          { role: 'system', content: 'later' },
        ],
      }),
    )
    expect(c.input.messages?.slice(1)).toEqual([
      { role: 'user', content: 'read a.txt' },
      {
        role: 'assistant',
        content: 'Reading.',
        tool_calls: [{ id: 'toolu_1', name: 'Tool3', arguments: '{"path":"a.txt"}' }],
      },
      { role: 'tool', content: '1\tline one', tool_call_id: 'toolu_1' },
    ])
    expect(c.input.messages?.[0]?.content).toMatch(/Be brief\.\nlater$/)
    expect(c.reply.contextManagement?.applied_edits[0]?.cleared_thinking_turns).toBe(1)
  })
})

describe('thinking and effort as a reasoning budget (of 64 tokens)', () => {
  it.each([
    ['adaptive, no effort (high, the default)', { thinking: { type: 'adaptive' } }, 32],
    ['adaptive, low', { thinking: { type: 'adaptive' }, output_config: { effort: 'low' } }, 8],
    ['adaptive, medium', { thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } }, 16],
    ['adaptive, xhigh', { thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } }, 48],
    [
      'adaptive, max (the answer keeps a quarter)',
      { thinking: { type: 'adaptive' }, output_config: { effort: 'max' } },
      48,
    ],
    [
      'enabled: its own budget',
      { thinking: { type: 'enabled', budget_tokens: 12 }, output_config: { effort: 'low' } },
      12,
    ],
    ['disabled', { thinking: { type: 'disabled' }, output_config: { effort: 'max' } }, 0],
    ['no thinking, an effort', { output_config: { effort: 'low' } }, 8],
    ['neither: the model’s own way', {}, undefined],
    ['a thinking type Ripple does not know', { thinking: { type: 'between_tools' } }, undefined],
  ])('%s', (_, over, budget) => {
    expect(call({ model: 'r1', max_tokens: 64, messages: ask, ...over }).input.reasoning_budget).toBe(budget)
  })

  it('names an effort the thinking overrides, and a thinking type it does not know', () => {
    const enabled = { type: 'enabled', budget_tokens: 12 }
    expect(
      call({
        model: 'r1',
        max_tokens: 64,
        messages: ask,
        thinking: enabled,
        output_config: { effort: 'low' },
      }).ignored,
    ).toEqual(['output_config.effort low (thinking sets the budget)'])
    expect(
      call({ model: 'r1', max_tokens: 64, messages: ask, thinking: { type: 'between_tools' } }).ignored,
    ).toEqual(['thinking between_tools'])
  })

  it.each([
    [{ type: 'adaptive', display: 'omitted' }, 'omitted'],
    [{ type: 'enabled', budget_tokens: 9, display: 'omitted' }, 'omitted'],
    [{ type: 'adaptive', display: 'summarized' }, 'shown'],
    [{ type: 'adaptive' }, 'shown'],
  ])('display of %o: thinking %s', (thinking, shown) => {
    expect(call({ model: 'r1', max_tokens: 64, messages: ask, thinking }).reply.thinking).toBe(shown)
  })
})

describe('what Ripple cannot use is left out and named, not refused', () => {
  it('drops blocks the model cannot see; a tool result’s images go to the user turn', () => {
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }
    const c = call({
      model: 'tiny',
      max_tokens: 8,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'text', data: 'x' } },
            { type: 'text', text: 'q' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'redacted_thinking', data: 'opaque' },
            { type: 'server_tool_use', id: 's', name: 'web_search', input: {} },
            { type: 'tool_use', id: 't', name: 'f', input: {} },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't',
              is_error: true,
              content: [
                { type: 'text', text: 'no' },
                image,
                { type: 'search_result', source: 's', title: 't', content: [] },
              ],
            },
          ],
        },
      ],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    })
    expect(c.input.messages?.slice(2)).toEqual([
      { role: 'tool', content: 'error: no', tool_call_id: 't' },
      { role: 'user', content: '', images: [`data:image/png;base64,${PNG}`] },
    ])
    expect(c.ignored).toEqual([
      'document block',
      'server_tool_use block',
      "image block in the assistant's turn",
      'search_result block in a tool result',
    ])
  })

  it('offers custom tools; leaves out server tools and tools with no input schema', () => {
    const c = call({
      model: 'tiny',
      max_tokens: 8,
      messages: ask,
      tools: [
        { type: 'custom', name: 'a', input_schema: schema, defer_loading: true },
        { name: 'b', input_schema: schema, input_examples: [{ path: 'x' }] },
        { type: 'bash_20250124', name: 'bash' },
        { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
        { name: 'c' },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    })
    expect(c.input.tools).toEqual([
      { name: 'a', parameters: schema },
      { name: 'b', parameters: schema },
    ])
    expect(c.input.tool_choice).toBe('auto')
    expect(c.ignored).toEqual([
      'tool a: defer_loading (offered now)',
      'tool b: input_examples',
      'tool bash (bash_20250124: a server tool no peer runs)',
      'tool str_replace_based_edit_tool (text_editor_20250728: a server tool no peer runs)',
      'tool c (no input_schema)',
    ])
    const unnamed = MessagesRequestSchema.safeParse({
      model: 'tiny',
      max_tokens: 8,
      messages: ask,
      tools: [{ input_schema: schema }],
    })
    expect(unnamed.error?.issues[0]?.path).toEqual(['tools', 0, 'name'])
  })

  it('applies clear_thinking; names clear_tool_uses (it counts input tokens) as not applied', () => {
    const c = call({
      model: 'tiny',
      max_tokens: 8,
      messages: ask,
      context_management: {
        edits: [
          { type: 'clear_thinking_20251015' },
          { type: 'clear_tool_uses_20250919', trigger: { type: 'input_tokens', value: 9 } },
        ],
      },
    })
    expect(c.reply.contextManagement?.applied_edits.map((e) => e.type)).toEqual(['clear_thinking_20251015'])
    expect(c.ignored).toEqual(['context_management edit clear_tool_uses_20250919 (not applied)'])
    expect(call({ model: 'tiny', max_tokens: 8, messages: ask }).reply).toEqual({ thinking: 'shown' })
  })
})

describe('max_tokens, structured output, count_tokens', () => {
  it('takes any max_tokens, clamped to the worker’s bound, on every API; refuses 0', () => {
    const most = Math.min(200_000, MAX_TOKENS)
    expect(call({ model: 'tiny', max_tokens: 200_000, messages: ask }).input.max_tokens).toBe(most)
    const chat = ChatCompletionRequestSchema.parse({
      model: 'tiny',
      messages: ask,
      max_completion_tokens: 200_000,
    })
    expect(chatCompletionCall(chat).input.max_tokens).toBe(most)
    const responses = ResponseRequestSchema.parse({ model: 'tiny', input: 'q', max_output_tokens: 200_000 })
    expect(responseCall(responses).input.max_tokens).toBe(most)
    expect(MessagesRequestSchema.safeParse({ model: 'tiny', max_tokens: 0, messages: ask }).success).toBe(
      false,
    )
  })

  it('takes output_config.format (and the beta’s output_format) as the JSON schema', () => {
    const format = { type: 'json_schema', schema }
    expect(
      call({ model: 'tiny', max_tokens: 8, messages: ask, output_config: { format } }).input.json_schema,
    ).toEqual(schema)
    expect(
      call({ model: 'tiny', max_tokens: 8, messages: ask, output_format: format }).input.json_schema,
    ).toEqual(schema)
  })

  it('counts with one greedy token of the same request, thinking on or off as a generation has it', () => {
    const body = claudeCodeRequest()
    const c = countTokensCall(CountTokensRequestSchema.parse(body))
    expect(c.stream).toBe(false)
    expect(c.input).toEqual({ ...call(body).input, max_tokens: 1, temperature: 0, reasoning_budget: 1 })
    const off = { ...body, thinking: { type: 'disabled' } }
    expect(countTokensCall(CountTokensRequestSchema.parse(off)).input.reasoning_budget).toBe(0)
    const own = { ...body, thinking: undefined, output_config: undefined }
    expect(countTokensCall(CountTokensRequestSchema.parse(own)).input.reasoning_budget).toBeUndefined()
  })
})
