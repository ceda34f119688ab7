/**
 * Anthropic's messages as the conversation the worker takes: one system prompt (the top-level
 * `system`, then each `system`-role message's text, in order: Claude Code sends one as the last
 * message, and templates take the system prompt first), user and assistant turns, tool calls and
 * their results (text, and images given to the user turn after them). Blocks the model cannot see
 * are dropped and named, never refused; thinking sent back is dropped (templates render only the
 * answers) and its turns counted, as `clear_thinking` reports them. Pure.
 */
import { z } from 'zod'
import type { ChatMessage } from '../../inference/tool-calls.ts'
import {
  AnthropicImageBlockSchema,
  anthropicImageUrl,
  type ContentPiece,
  userMessage,
} from './image-parts.ts'

/** What an object of a type not listed (a block, a thinking mode) is read as: named, and left out. */
export const OtherSchema = z.object({ type: z.literal('other'), was: z.string() })

/** Reads an object whose type is not among `types` as an `other` one (before the union judges it). */
export const otherThan = (types: readonly string[]) => (block: unknown) => {
  const type = (block as { type?: unknown } | null)?.type
  return typeof type === 'string' && !types.includes(type) ? { type: 'other', was: type } : block
}

/** Text; its `cache_control` and `citations` are accepted and not used. */
const TextBlockSchema = z.object({ type: z.literal('text'), text: z.string() })

/** A tool result's content: text and images; other parts (documents, search results) are left out. */
const ResultPartSchema = z.preprocess(
  otherThan(['text', 'image']),
  z.discriminatedUnion('type', [TextBlockSchema, AnthropicImageBlockSchema, OtherSchema]),
)

const BlockSchema = z.preprocess(
  otherThan(['text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking']),
  z.discriminatedUnion('type', [
    TextBlockSchema,
    AnthropicImageBlockSchema,
    z.object({
      type: z.literal('tool_use'),
      id: z.string().min(1),
      name: z.string().min(1),
      input: z.record(z.string(), z.json()),
    }),
    z.object({
      type: z.literal('tool_result'),
      tool_use_id: z.string().min(1),
      content: z.union([z.string(), z.array(ResultPartSchema)]).nullish(),
      is_error: z.boolean().nullish(),
    }),
    // Sent back with their `thinking`, `signature` or `data`: accepted, and dropped.
    z.object({ type: z.enum(['thinking', 'redacted_thinking']) }),
    OtherSchema,
  ]),
)
type Block = z.output<typeof BlockSchema>

/** The blocks each side of a conversation has (thinking is the assistant's, dropped on purpose). */
const SEEN: Record<'user' | 'assistant', readonly string[]> = {
  user: ['text', 'image', 'tool_result'],
  assistant: ['text', 'tool_use', 'thinking', 'redacted_thinking'],
}

export const ContentSchema = z.union([z.string(), z.array(BlockSchema)])
export const MessageSchema = z.object({
  role: z.enum(['user', 'assistant', 'system']),
  content: ContentSchema,
})

export interface Conversation {
  messages: ChatMessage[]
  /** Assistant turns whose thinking was dropped. */
  thinkingTurns: number
  /** The blocks left out, a few words each. */
  ignored: string[]
}

/**
 * The conversation. Text blocks of one message join with a line break, as llama.cpp joins a
 * message's text parts; those of the top-level `system` with nothing between, as llama-server joins
 * them; the system prompt's sources (the top-level `system`, each system message) with a line break.
 */
export function conversation(
  system: string | Block[] | null | undefined,
  turns: readonly z.output<typeof MessageSchema>[],
): Conversation {
  const ignored = new Set<string>()
  const blocksOf = (content: string | Block[]): Block[] =>
    typeof content === 'string' ? [{ type: 'text', text: content }] : content
  const textOf = (blocks: readonly Block[], where: string, separator = '\n') => {
    for (const b of blocks)
      if (b.type !== 'text') ignored.add(`${b.type === 'other' ? b.was : b.type} block in ${where}`)
    return blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join(separator)
  }
  const systemParts = system ? [textOf(blocksOf(system), 'system', '')] : []
  const messages: ChatMessage[] = []
  let thinkingTurns = 0
  for (const turn of turns) {
    const blocks = blocksOf(turn.content)
    if (turn.role === 'system') {
      systemParts.push(textOf(blocks, 'a system message'))
      continue
    }
    for (const b of blocks) {
      if (b.type === 'other') ignored.add(`${b.was} block`)
      else if (!SEEN[turn.role].includes(b.type)) ignored.add(`${b.type} block in the ${turn.role}'s turn`)
    }
    const text = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n')
    if (turn.role === 'assistant') {
      if (blocks.some((b) => b.type === 'thinking' || b.type === 'redacted_thinking')) thinkingTurns += 1
      const calls = blocks.flatMap((b) =>
        b.type === 'tool_use' ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input) }] : [],
      )
      messages.push({ role: 'assistant', content: text, ...(calls.length > 0 ? { tool_calls: calls } : {}) })
      continue
    }
    // A user turn: its tool results answer the calls before it, then its text is the user's, with
    // the images of both (a tool message carries no image).
    const own: ContentPiece[] = []
    const shown: ContentPiece[] = []
    for (const b of blocks) {
      if (b.type === 'text') own.push({ text: b.text })
      if (b.type === 'image') own.push({ image: anthropicImageUrl(b) })
      if (b.type !== 'tool_result') continue
      const parts = typeof b.content === 'string' ? [{ type: 'text' as const, text: b.content }] : b.content
      for (const p of parts ?? []) {
        if (p.type === 'image') shown.push({ image: anthropicImageUrl(p) })
        if (p.type === 'other') ignored.add(`${p.was} block in a tool result`)
      }
      const result = (parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('')
      messages.push({
        role: 'tool',
        content: b.is_error ? `error: ${result}` : result,
        tool_call_id: b.tool_use_id,
      })
    }
    // The user's own text and images in their order, then those the tool results showed.
    const said = own.some((p) => !('text' in p) || p.text !== '')
    if (said || shown.length > 0 || !blocks.some((b) => b.type === 'tool_result'))
      messages.push(userMessage([...own, ...shown], '\n'))
  }
  const prompt = systemParts.filter((p) => p !== '').join('\n')
  return {
    messages: prompt === '' ? messages : [{ role: 'system', content: stableBilling(prompt) }, ...messages],
    thinkingTurns,
    ignored: [...ignored],
  }
}

/**
 * Claude Code's billing line may carry a stamp that changes with every request (`cch=xxxxx;`): at
 * the head of the prompt, it would keep the engine from reusing any of its cache. It is made
 * constant, as llama-server makes it; no other prompt is touched.
 */
function stableBilling(prompt: string): string {
  if (!prompt.startsWith('x-anthropic-billing-header:')) return prompt
  return prompt.replace(/^([^\n]*?\bcch=)[^;\n]{5};/, '$1fffff;')
}
