/**
 * infer.generate's input as the agents send it (shapes of Claude Code's and Codex's requests, with
 * texts of our own): taken whole; and the request as a whole bounded, each refusal naming what was
 * over.
 */
import { describe, expect, it } from 'vitest'
import {
  type InferGenerateInput,
  InferGenerateInputSchema,
  MAX_DESCRIPTION_CHARS,
  MAX_TOOLS,
  textBytes,
} from '../../../host/workers/infer-generate-input.ts'
import { pngDataUrl, pngDeclaring, pngOfBytes } from '../../fixtures/tiny-png.ts'

const ask = [{ role: 'user' as const, content: 'Fix the failing test.' }]
const words = (n: number) => 'Use this tool to do one thing well. '.repeat(Math.ceil(n / 36)).slice(0, n)
const tool = (name: string, description = 'A tool.') => ({
  name,
  description,
  parameters: { type: 'object', properties: { path: { type: 'string' } } },
})
const png = (bytes: number) => pngDataUrl(pngOfBytes(bytes))

function issues(input: InferGenerateInput): string[] {
  return InferGenerateInputSchema.safeParse(input).error?.issues.map((i) => i.message) ?? []
}

describe('infer.generate input', () => {
  it.each<[string, InferGenerateInput]>([
    [
      "Claude Code's first turn: 21 tools with descriptions up to 6,400 characters, a long system prompt, 32000 max tokens",
      {
        messages: [{ role: 'system', content: words(7_000) }, ...ask],
        tools: Array.from({ length: 21 }, (_, i) => tool(`Tool${i}`, words(300 * (i + 1)))),
        max_tokens: 32_000,
        reasoning_budget: 16_000,
      },
    ],
    [
      "a long Codex session: 3,000 messages, namespaced and MCP tools, the Responses API's long call ids",
      {
        messages: [
          ...ask,
          ...Array.from({ length: 1_500 }, (_, i) => [
            {
              role: 'assistant' as const,
              content: '',
              tool_calls: [
                { id: `fc_${'a'.repeat(60)}${i}`, name: 'multi_agent_v1.spawn_agent', arguments: '{}' },
              ],
            },
            { role: 'tool' as const, content: `result ${i}`, tool_call_id: `fc_${'a'.repeat(60)}${i}` },
          ]).flat(),
        ],
        tools: [tool('multi_agent_v1.spawn_agent'), tool('mcp__files__read_file'), tool('github:search')],
        max_tokens: 32_768,
      },
    ],
    [
      'a user message whose image stands after its text',
      { messages: [{ role: 'user', content: 'What is this?', images: [png(10)], images_at: [13] }] },
    ],
    [
      'a tool described at the most a tool may be, stop strings of several kinds',
      {
        messages: ask,
        tools: [tool('f', 'x'.repeat(MAX_DESCRIPTION_CHARS))],
        stop: Array.from({ length: 32 }, (_, i) => `<|stop ${i}|>`),
      },
    ],
  ])('takes %s', (_, input) => {
    expect(issues(input)).toEqual([])
  })

  it.each<[string, InferGenerateInput, string]>([
    [
      'a description past 64 KiB',
      { messages: ask, tools: [tool('f', 'x'.repeat(MAX_DESCRIPTION_CHARS + 1))] },
      'Too big: expected string to have <=65536 characters',
    ],
    [
      'more tools than a request takes',
      { messages: ask, tools: Array.from({ length: MAX_TOOLS + 1 }, (_, i) => tool(`t${i}`)) },
      'Too big: expected array to have <=512 items',
    ],
    [
      'a tool name a template would write unescaped',
      { messages: ask, tools: [tool('read file')] },
      'letters, digits, _ - . and :, at most 256',
    ],
    [
      'text past 8 MiB in all, spread over messages and tools',
      {
        messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }],
        tools: [tool('f', 'x'.repeat(60_000))],
        json_schema: { type: 'object', description: 'y'.repeat(3 * 1024 * 1024) },
      },
      "the request's text (messages, tools, schemas) is 8.1 MiB: at most 8.0 MiB",
    ],
    [
      'more images in the request than one takes, spread over messages',
      {
        messages: [
          { role: 'user', content: 'a', images: Array.from({ length: 9 }, () => png(10)) },
          { role: 'assistant', content: 'b' },
          { role: 'user', content: 'c', images: Array.from({ length: 8 }, () => png(10)) },
        ],
      },
      '17 images in the request: at most 16',
    ],
    [
      "images past the request's allowance together",
      {
        messages: [
          { role: 'user', content: 'a', images: [png(6 * 1024 * 1024)] },
          { role: 'assistant', content: 'b' },
          { role: 'user', content: 'c', images: [png(5 * 1024 * 1024)] },
        ],
      },
      "the request's images are 11.0 MiB decoded: at most 10.0 MiB",
    ],
    [
      // As a peer sends it over the mesh, past the API that would have refused it.
      'an image whose header declares 20,000 × 20,000 pixels, in a small PNG',
      {
        messages: [
          { role: 'user', content: 'a', images: [pngDataUrl(), pngDataUrl(pngDeclaring(20_000, 20_000))] },
        ],
      },
      'image 2 is 20000 × 20000 pixels (400.0 megapixels): at most 50 megapixels are taken',
    ],
    [
      // A TGA declaring 65,535 × 65,535 in 18 bytes: its size is not read here, so it is not taken.
      'an image in a format whose size is not read, as a peer sends it',
      {
        messages: [
          {
            role: 'user',
            content: 'a',
            images: [
              `data:image/x-tga;base64,${Buffer.from([0, 0, 2, ...Array(9).fill(0), 255, 255, 255, 255, 24, 0]).toString('base64')}`,
            ],
          },
        ],
      },
      'image 1 is not a PNG, JPEG, GIF, WebP or BMP whose header gives its size, so its pixels cannot be bounded before decoding',
    ],
    [
      'images placed out of order in their text',
      { messages: [{ role: 'user', content: 'one two', images: [png(1), png(1)], images_at: [4, 2] }] },
      'images_at places each image in the content, in order: one offset per image',
    ],
  ])('refuses %s, saying what was over', (_, input, message) => {
    expect(issues(input)).toEqual([message])
  })

  it('counts the text of every part of a request, in UTF-8 bytes', () => {
    const input = InferGenerateInputSchema.parse({
      messages: [
        { role: 'system', content: 'é' },
        { role: 'user', content: 'ab' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'i', name: 'f', arguments: '{}' }] },
        { role: 'tool', content: 'r', tool_call_id: 'i' },
      ],
      tools: [{ name: 'f', description: 'd', parameters: { type: 'object' } }],
      stop: ['s'],
    })
    // é 2, ab 2, i f {} 4, r i 2, f d 1+1+17, s 1
    expect(textBytes(input)).toBe(2 + 2 + 4 + 2 + 19 + 1)
  })
})
