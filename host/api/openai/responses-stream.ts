/**
 * A streamed `/v1/responses` answer: its typed events (`response.created`, then each output item as
 * its first piece comes: the reasoning item with `response.reasoning_text.delta`, the message with
 * `response.output_text.delta`, a forced call with `response.function_call_arguments.delta`; then
 * `response.completed`), each with its sequence number. The response it ends with lists the items in
 * the order they were sent. Pure.
 */
import type { GenerateInput, GenerateOutput } from './generation.ts'
import { streamMode } from './generation.ts'
import {
  answerItems,
  callItem,
  messageItem,
  type OutputItem,
  outputText,
  reasoningItem,
  responseObject,
} from './responses.ts'
import type { SseEvent, StreamRenderer, TaskIdentity } from './serve-task.ts'

export function responseStream(
  id: TaskIdentity,
  input: GenerateInput,
  errorBody: (err: Error) => unknown,
): StreamRenderer {
  const mode = streamMode(input)
  let sequence = 0
  const event = (type: string, data: Record<string, unknown>): SseEvent => ({
    event: type,
    data: { type, sequence_number: sequence++, ...data },
  })
  /** Items sent and closed, in output order; the open one is next. */
  const sent: OutputItem[] = []
  let open: { item: OutputItem; text: string } | null = null
  let reasoned = 0
  let streamed = false
  const at = () => ({ output_index: sent.length })
  const part = (item: OutputItem) => ({ item_id: item.id, ...at(), content_index: 0 })

  /** Closes the open item, as `final` says it ended (else as streamed). */
  const close = (final?: OutputItem): SseEvent[] => {
    if (open === null) return []
    const { text } = open
    const item = final ?? complete(open.item, text)
    const events =
      item.type === 'reasoning'
        ? [event('response.reasoning_text.done', { ...part(item), text })]
        : item.type === 'message'
          ? [
              event('response.output_text.done', { ...part(item), text: item.content[0]?.text ?? '' }),
              event('response.content_part.done', { ...part(item), part: item.content[0] }),
            ]
          : [
              event('response.function_call_arguments.done', {
                item_id: item.id,
                ...at(),
                arguments: item.arguments,
              }),
            ]
    events.push(event('response.output_item.done', { ...at(), item }))
    sent.push(item)
    open = null
    return events
  }
  /** Opens `item` unless an item with its id is the one open (closing that one first). */
  const ensure = (item: OutputItem): SseEvent[] => {
    if (open?.item.id === item.id) return []
    const events = close()
    open = { item, text: '' }
    events.push(event('response.output_item.added', { ...at(), item }))
    if (item.type === 'message')
      events.push(event('response.content_part.added', { ...part(item), part: outputText('') }))
    return events
  }
  const piece = (item: OutputItem, text: string): SseEvent[] => {
    const events = ensure(item)
    if (text === '' || open === null) return events
    open.text += text
    const type =
      item.type === 'reasoning'
        ? 'response.reasoning_text.delta'
        : item.type === 'message'
          ? 'response.output_text.delta'
          : 'response.function_call_arguments.delta'
    const where = item.type === 'function_call' ? { item_id: item.id, ...at() } : part(item)
    events.push(event(type, { ...where, delta: text }))
    return events
  }
  const reasoning = (text: string) => {
    reasoned += text.length
    return piece(reasoningItem(id, '', 'in_progress'), text)
  }

  return {
    start: () => [
      event('response.created', { response: responseObject(id, null) }),
      event('response.in_progress', { response: responseObject(id, null) }),
    ],
    reasoning: (text) => (text === '' ? [] : reasoning(text)),
    token: (text) => {
      if (text === '' || mode.kind === 'buffered') return []
      streamed = true
      if (mode.kind === 'text') return piece(messageItem(id, '', 'in_progress'), text)
      return piece(callItem(id, 0, mode.name, '', 'in_progress'), text)
    },
    finish: (output) => {
      const o = output as GenerateOutput
      const unsent = o.reasoning.slice(reasoned)
      const events = unsent === '' ? [] : reasoning(unsent)
      // What streamed is the answer's first item; the others are sent whole.
      answerItems(id, o, mode.kind === 'text').forEach((item, i) => {
        if (!(i === 0 && streamed)) {
          const text = item.type === 'message' ? (item.content[0]?.text ?? '') : item.arguments
          events.push(...piece({ ...item, status: 'in_progress' }, text))
        }
        events.push(...close(item))
      })
      events.push(
        event(o.stop_reason === 'max_tokens' ? 'response.incomplete' : 'response.completed', {
          response: responseObject(id, o, sent),
        }),
      )
      return events
    },
    error: (err) => [event('error', { ...(errorBody(err) as { error: object }).error })],
  }
}

/** An item as streamed so far: what was sent is its content. */
function complete(item: OutputItem, text: string): OutputItem {
  if (item.type === 'reasoning')
    return { ...item, status: 'completed', content: [{ type: 'reasoning_text', text }] }
  if (item.type === 'message') return { ...item, status: 'completed', content: [outputText(text)] }
  return { ...item, status: 'completed', arguments: text }
}
