/**
 * Anthropic's stream of a message: `message_start`, `content_block_*` (`thinking_delta` then a
 * `signature_delta`, text, or a call's `input_json_delta`; each block opened as its first piece comes),
 * `message_delta`, `message_stop`. The prompt's tokens are known only at the end, so `message_start`
 * says 0 and `message_delta`'s usage carries them (the SDK takes its input counts when present). An
 * omitted thinking block opens as the reasoning comes and carries only its signature. Pure.
 */

import { renderEach } from '../../interface/run-event.ts'
import {
  answerBlocks,
  anthropicUsage,
  contextManagement,
  type MessagesReply,
  messageId,
  SHOWN,
  signature,
  stopReason,
} from './anthropic-reply.ts'
import { type GenerateInput, type GenerateOutput, streamMode, toolCallId } from './generation.ts'
import { type SseEvent, type StreamRenderer, type TaskIdentity, UNSHOWN } from './serve-task.ts'

export function messagesStream(
  id: TaskIdentity,
  input: GenerateInput,
  errorBody: (err: Error) => unknown,
  reply: MessagesReply = SHOWN,
): StreamRenderer {
  const mode = streamMode(input)
  const event = (type: string, data: Record<string, unknown>): SseEvent => ({
    event: type,
    data: { type, ...data },
  })
  let index = -1
  /** The open block: `thinking`, `text`, or a call's id. */
  let open: string | null = null
  let reasoned = 0
  let streamed = false
  const close = (): SseEvent[] => {
    if (open === null) return []
    const signed =
      open === 'thinking'
        ? [
            event('content_block_delta', {
              index,
              delta: { type: 'signature_delta', signature: signature(id) },
            }),
          ]
        : []
    open = null
    return [...signed, event('content_block_stop', { index })]
  }
  /** Opens the block of this kind unless it is the one open (closing that one first). */
  const ensure = (kind: string, block: Record<string, unknown>): SseEvent[] => {
    if (open === kind) return []
    const closing = close()
    open = kind
    return [...closing, event('content_block_start', { index: ++index, content_block: block })]
  }
  const thinking = (t: string) => {
    reasoned += t.length
    return [
      ...ensure('thinking', { type: 'thinking', thinking: '', signature: '' }),
      ...(reply.thinking === 'omitted'
        ? []
        : [event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: t } })]),
    ]
  }
  const text = (t: string) => [
    ...ensure('text', { type: 'text', text: '' }),
    ...(t === '' ? [] : [event('content_block_delta', { index, delta: { type: 'text_delta', text: t } })]),
  ]
  /** The calls streamed as they came: the end sends the others whole. */
  const called = new Set<string>()
  const call = (block: { id: string; name: string }, json: string) => [
    ...ensure(block.id, { type: 'tool_use', ...block, input: {} }),
    ...(json === ''
      ? []
      : [event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json } })]),
  ]
  return {
    start: () => [
      event('message_start', {
        message: {
          id: messageId(id.task),
          type: 'message',
          role: 'assistant',
          model: id.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
          ...contextManagement(reply),
        },
      }),
    ],
    render: renderEach<SseEvent[]>({
      ...UNSHOWN,
      reasoning: ({ text: t }) => (t === '' ? [] : thinking(t)),
      token: ({ text: t }) => {
        if (t === '' || mode.kind === 'buffered') return []
        streamed = true
        if (mode.kind === 'text') return text(t)
        return call({ id: toolCallId('toolu_', id.task, 0), name: mode.name }, t)
      },
      'tool-call': ({ index: i, name, arguments: json }) => {
        if (mode.kind === 'arguments') return []
        const block = { id: toolCallId('toolu_', id.task, i), name }
        called.add(block.id)
        return call(block, json)
      },
      done: ({ output }) => {
        const o = output as GenerateOutput
        const unsent = o.reasoning.slice(reasoned)
        const events: SseEvent[] = unsent === '' ? [] : thinking(unsent)
        // What streamed is the answer's first block (its text, or the forced call's arguments) and
        // the calls that came in pieces; an answer of calls alone has no text block, one of nothing
        // an empty one.
        answerBlocks(id, o, streamed && mode.kind === 'text').forEach((block, i) => {
          if ((i === 0 && streamed) || (block.type === 'tool_use' && called.has(block.id))) return
          if (block.type === 'text') events.push(...text(block.text))
          else events.push(...call(block, JSON.stringify(block.input)))
        })
        events.push(
          ...close(),
          event('message_delta', {
            delta: { stop_reason: stopReason(o, input.stop), stop_sequence: null },
            usage: anthropicUsage(o),
            ...contextManagement(reply),
          }),
          event('message_stop', {}),
        )
        return events
      },
    }),
    error: (err) => [event('error', { error: (errorBody(err) as { error: object }).error })],
  }
}
