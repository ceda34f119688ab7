/**
 * The Responses API's input items as chat messages, as Codex sends its conversation back each turn:
 * messages (with ids, any role, text, refusal and image parts), function calls (with their
 * `namespace`) and custom tool calls, each answered by its output (text, or an array of content parts).
 * Reasoning items sent back are dropped: templates render only the answers. An item, a content part
 * or an image Ripple cannot give the model is left out with a note, not refused.
 */
import { z } from 'zod'
import type { ChatMessage } from '../../inference/tool-calls.ts'
import { byType, isOther, note } from './chat-typed-parts.ts'
import { type ContentPiece, InputImagePartSchema, userMessage } from './image-parts.ts'
import { type ClientTools, customArguments, offeredName } from './responses-tools.ts'

const TextSchema = z.object({ text: z.string() })

const PartsSchema = z.array(
  byType({
    input_text: TextSchema,
    output_text: TextSchema,
    refusal: z.object({ refusal: z.string() }).transform((p) => ({ text: p.refusal })),
    input_image: InputImagePartSchema.transform((image) => ({ image })),
  }),
)
/** Text, or content parts (text alone is read as one `input_text` part, so a bad part's issue is its own). */
const ContentSchema = z.preprocess(
  (c) => (typeof c === 'string' ? [{ type: 'input_text', text: c }] : c),
  PartsSchema,
)

const CallSchema = z.object({
  call_id: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().nullish(),
})

export const InputItemSchema = byType(
  {
    message: z.object({
      type: z.literal('message').default('message'),
      role: z.enum(['user', 'system', 'developer', 'assistant']),
      content: ContentSchema,
    }),
    function_call: CallSchema.extend({ type: z.literal('function_call'), arguments: z.string() }),
    custom_tool_call: CallSchema.extend({ type: z.literal('custom_tool_call'), input: z.string() }),
    function_call_output: z.object({
      type: z.literal('function_call_output'),
      call_id: z.string().min(1),
      output: ContentSchema,
    }),
    custom_tool_call_output: z.object({
      type: z.literal('custom_tool_call_output'),
      call_id: z.string().min(1),
      output: ContentSchema,
    }),
    reasoning: z.object({ type: z.literal('reasoning') }),
  },
  'message',
)
type InputItem = z.output<typeof InputItemSchema>
type Content = z.output<typeof ContentSchema>

/** The conversation the items say, calls under the names the model was offered their tools by. */
export function conversationOf(
  items: readonly InputItem[],
  tools: ClientTools,
  ignored: string[],
): ChatMessage[] {
  const history: ChatMessage[] = []
  for (const item of items) {
    if (isOther(item)) note(ignored, `input item ${item.other}`)
    else if (item.type === 'message') history.push(message(item.role, item.content, ignored))
    else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      const args = item.type === 'function_call' ? item.arguments : customArguments(item.input)
      const call = { id: item.call_id, name: offeredName(tools, item.name, item.namespace), arguments: args }
      const last = history.at(-1)
      // Calls right after an assistant message are that message's; otherwise they make one of their own.
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call]
      else history.push({ role: 'assistant', content: '', tool_calls: [call] })
    } else if (item.type === 'reasoning')
      note(ignored, 'reasoning items given back: templates render answers only')
    else
      history.push({
        role: 'tool',
        content: textOf(piecesOf(item.output, 'tool outputs', ignored)),
        tool_call_id: item.call_id,
      })
  }
  return history
}

function message(
  role: 'user' | 'system' | 'developer' | 'assistant',
  content: Content,
  ignored: string[],
): ChatMessage {
  const pieces = piecesOf(content, `${role} messages`, ignored, role === 'user')
  if (role === 'user') return userMessage(pieces)
  return { role: role === 'developer' ? 'system' : role, content: textOf(pieces) }
}

/** Content's text and, where they may be shown (a user's), its images, in order; the rest is noted. */
function piecesOf(content: Content, where: string, ignored: string[], showsImages = false): ContentPiece[] {
  const pieces: ContentPiece[] = []
  for (const part of content) {
    if (isOther(part)) note(ignored, `content part ${part.other} in ${where}`)
    else if ('text' in part) pieces.push({ text: part.text })
    else if (showsImages) pieces.push({ image: part.image })
    else note(ignored, `input_image in ${where}: only user messages show images`)
  }
  return pieces
}

const textOf = (pieces: readonly ContentPiece[]) => pieces.map((p) => ('text' in p ? p.text : '')).join('')
