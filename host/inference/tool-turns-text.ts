/**
 * A conversation's tool turns written as plain text, for a chat template that takes none (Gemma 2's
 * raises unless the roles alternate user and assistant): an assistant's calls become its text, each
 * result a user message saying whose result it is, and user messages that then meet are joined.
 */
import type { ChatMessage } from './tool-calls.ts'

/** null when the conversation holds no tool turn. */
export function toolTurnsAsText(messages: readonly ChatMessage[]): ChatMessage[] | null {
  if (!messages.some((m) => m.role === 'tool' || (m.tool_calls?.length ?? 0) > 0)) return null
  const toolOf = new Map<string, string>()
  const written: ChatMessage[] = []
  for (const message of messages) {
    for (const call of message.tool_calls ?? []) toolOf.set(call.id, call.name)
    const text = asText(message, toolOf)
    const last = written.at(-1)
    if (text.role === 'user' && last?.role === 'user') written[written.length - 1] = joined(last, text)
    else written.push(text)
  }
  return written
}

function asText(message: ChatMessage, toolOf: ReadonlyMap<string, string>): ChatMessage {
  if (message.role === 'tool') {
    const tool = toolOf.get(message.tool_call_id ?? '') ?? 'a tool'
    return { role: 'user', content: `The result of the call to ${tool}: ${message.content}` }
  }
  if (!message.tool_calls?.length) return message
  const calls = message.tool_calls.map(
    (c) => `{"name": ${JSON.stringify(c.name)}, "arguments": ${c.arguments}}`,
  )
  return { role: 'assistant', content: [message.content, ...calls].filter((t) => t !== '').join('\n') }
}

/** Two user messages as one, each one's images where they stood in its text. */
function joined(first: ChatMessage, second: ChatMessage): ChatMessage {
  const content = [first.content, second.content].filter((t) => t !== '').join('\n\n')
  const shift = content.length - second.content.length
  const at = (m: ChatMessage, by: number) => (m.images ?? []).map((_, i) => (m.images_at?.[i] ?? 0) + by)
  const images = [...(first.images ?? []), ...(second.images ?? [])]
  return {
    role: 'user',
    content,
    ...(images.length > 0 ? { images, images_at: [...at(first, 0), ...at(second, shift)] } : {}),
  }
}
