/**
 * A streamed `/v1/responses` answer: its typed events (`response.created`, then each output item as
 * its first piece comes: the reasoning item with `response.reasoning_text.delta`, the message with
 * `response.output_text.delta`, a function call with `response.function_call_arguments.delta` (a
 * forced one, or each call as llama.cpp reads it), a custom tool's with
 * `response.custom_tool_call_input.delta` (its input as far as it is read out of the arguments,
 * streamed-input.ts); then the calls not streamed; then
 * `response.completed`), each with its sequence number. Codex takes each item from its
 * `response.output_item.done` and ends the turn on `response.completed`. The response it ends with
 * lists the items in the order they were sent. Pure.
 */
import { renderEach } from '../../interface/run-event.ts'
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
import { type ClientTools, NO_TOOLS } from './responses-tools.ts'
import { type SseEvent, type StreamRenderer, type TaskIdentity, UNSHOWN } from './serve-task.ts'
import { StreamedInput } from './streamed-input.ts'

export function responseStream(
  id: TaskIdentity,
  input: GenerateInput,
  errorBody: (err: Error) => unknown,
  tools: ClientTools = NO_TOOLS,
): StreamRenderer {
  const forced = streamMode(input)
  // A custom tool's input is the text inside the arguments: it is sent whole, once they are read.
  const mode = forced.kind === 'arguments' && tools.get(forced.name)?.kind === 'custom' ? null : forced
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
  /** Custom tools' inputs, by call, as their arguments stream. */
  const inputs = new Map<number, StreamedInput>()
  const at = (item: OutputItem) => ({
    item_id: item.id,
    output_index: sent.length,
    ...(item.type === 'reasoning' || item.type === 'message' ? { content_index: 0 } : {}),
  })

  /** Closes the open item, as `final` says it ended (else as streamed). */
  const close = (final?: OutputItem): SseEvent[] => {
    if (open === null) return []
    const item = final ?? complete(open.item, open.text)
    const text = textOf(item)
    const events =
      item.type === 'reasoning'
        ? [event('response.reasoning_text.done', { ...at(item), text })]
        : item.type === 'message'
          ? [
              event('response.output_text.done', { ...at(item), text }),
              event('response.content_part.done', { ...at(item), part: item.content[0] }),
            ]
          : item.type === 'function_call'
            ? [event('response.function_call_arguments.done', { ...at(item), arguments: text })]
            : [event('response.custom_tool_call_input.done', { ...at(item), input: text })]
    events.push(event('response.output_item.done', { output_index: sent.length, item }))
    sent.push(item)
    open = null
    return events
  }
  /** Opens `item` unless an item with its id is the one open (closing that one first). */
  const ensure = (item: OutputItem): SseEvent[] => {
    if (open?.item.id === item.id) return []
    const events = close()
    open = { item, text: '' }
    events.push(event('response.output_item.added', { output_index: sent.length, item }))
    if (item.type === 'message')
      events.push(event('response.content_part.added', { ...at(item), part: outputText('') }))
    return events
  }
  const piece = (item: OutputItem, text: string): SseEvent[] => {
    const events = ensure(item)
    if (text === '' || open === null) return events
    open.text += text
    events.push(event(DELTA[item.type], { ...at(item), delta: text }))
    return events
  }
  const reasoning = (text: string) => {
    reasoned += text.length
    return piece(reasoningItem(id, '', 'in_progress'), text)
  }

  return {
    start: () => [
      event('response.created', { response: responseObject(id, null, []) }),
      event('response.in_progress', { response: responseObject(id, null, []) }),
    ],
    render: renderEach<SseEvent[]>({
      ...UNSHOWN,
      reasoning: ({ text }) => (text === '' ? [] : reasoning(text)),
      token: ({ text }) => {
        if (text === '' || mode === null || mode.kind === 'buffered') return []
        streamed = true
        if (mode.kind === 'text') return piece(messageItem(id, '', 'in_progress'), text)
        return piece(callItem(id, 0, { name: mode.name, arguments: '' }, tools, 'in_progress'), text)
      },
      'tool-call': ({ index, name, arguments: json }) => {
        if (forced.kind === 'arguments') return []
        const item = callItem(id, index, { name, arguments: '' }, tools, 'in_progress')
        if (item.type === 'function_call') return piece(item, json)
        // A custom tool's input is the text inside the arguments: it streams as far as it is read.
        const input = inputs.get(index) ?? new StreamedInput()
        inputs.set(index, input)
        const text = input.push(json)
        return text === '' ? [] : piece(item, text)
      },
      done: ({ output }) => {
        const o = output as GenerateOutput
        const unsent = o.reasoning.slice(reasoned)
        const events = unsent === '' ? [] : reasoning(unsent)
        // What streamed is the answer's first item and the calls that came in pieces (the one open
        // closes as the answer has it); the others are sent whole.
        answerItems(id, o, tools, streamed && mode?.kind === 'text').forEach((item, i) => {
          if (sent.some((s) => s.id === item.id)) return
          if (open?.item.id === item.id) {
            // Its deltas add up to what it ends with (a custom input read in part as it streamed).
            const whole = textOf(item)
            if (whole.startsWith(open.text)) events.push(...piece(open.item, whole.slice(open.text.length)))
          } else if (!(i === 0 && streamed)) events.push(...piece(opened(item), textOf(item)))
          events.push(...close(item))
        })
        events.push(
          event(o.stop_reason === 'max_tokens' ? 'response.incomplete' : 'response.completed', {
            response: responseObject(id, o, sent),
          }),
        )
        return events
      },
    }),
    error: (err) => [event('error', { ...(errorBody(err) as { error: object }).error })],
  }
}

const DELTA: Record<OutputItem['type'], string> = {
  reasoning: 'response.reasoning_text.delta',
  message: 'response.output_text.delta',
  function_call: 'response.function_call_arguments.delta',
  custom_tool_call: 'response.custom_tool_call_input.delta',
}

/** What an item's deltas carry: its reasoning, its text, a call's arguments or a custom tool's input. */
function textOf(item: OutputItem): string {
  if (item.type === 'reasoning' || item.type === 'message') return item.content[0]?.text ?? ''
  return item.type === 'function_call' ? item.arguments : item.input
}

/** An item as it is added, before its first delta. */
function opened(item: OutputItem): OutputItem {
  if (item.type === 'reasoning' || item.type === 'message')
    return { ...item, status: 'in_progress', content: [] }
  if (item.type === 'function_call') return { ...item, status: 'in_progress', arguments: '' }
  return { ...item, status: 'in_progress', input: '' }
}

/** An item as streamed so far: what was sent is its content. */
function complete(item: OutputItem, text: string): OutputItem {
  if (item.type === 'reasoning')
    return { ...item, status: 'completed', content: [{ type: 'reasoning_text', text }] }
  if (item.type === 'message') return { ...item, status: 'completed', content: [outputText(text)] }
  if (item.type === 'function_call') return { ...item, status: 'completed', arguments: text }
  return { ...item, status: 'completed', input: text }
}
