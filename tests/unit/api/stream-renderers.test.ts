/**
 * Every API's stream renders every kind of run event (interface/run-event.ts): what comes before the
 * answer (the request named, waiting, taken, the model's load) shows nothing, since the stream opens
 * once a peer took the request; reasoning, text and the end show in each API's own shape.
 */
import { describe, expect, it } from 'vitest'
import { messagesStream } from '../../../host/api/openai/anthropic-messages.ts'
import { chatStream } from '../../../host/api/openai/chat-completions.ts'
import { completionStream } from '../../../host/api/openai/completions.ts'
import { responseStream } from '../../../host/api/openai/responses-stream.ts'
import type { StreamRenderer } from '../../../host/api/openai/serve-task.ts'
import type { RunEvent } from '../../../host/interface/run-event.ts'
import { EVERY_KIND } from '../interface/every-run-event.ts'
import { generateOutput } from './fixtures.ts'

const id = { task: 'uhCkkTASKHASH0123456789abcdef', model: 'tiny', created: 1 }
const input = { messages: [{ role: 'user' as const, content: 'q' }], max_tokens: 8, temperature: 0 }
const errorBody = () => ({ error: {} })

const RENDERERS: Record<string, () => StreamRenderer> = {
  'chat completions': () => chatStream(id, input, true, errorBody),
  completions: () => completionStream(id, true, errorBody),
  responses: () => responseStream(id, input, errorBody),
  'anthropic messages': () => messagesStream(id, input, errorBody),
}

const BEFORE_ANSWER = ['submitted', 'waiting', 'assigned', 'load'] as const

describe.each(Object.entries(RENDERERS))('the %s stream', (_name, make) => {
  it('shows nothing of the run before its answer', () => {
    const stream = make()
    for (const kind of BEFORE_ANSWER) expect(stream.render(EVERY_KIND[kind])).toEqual([])
  })

  it('renders every kind of event, the text and the end in its own events', () => {
    const stream = make()
    const output = generateOutput({ text: 'Oslo', reasoning: 'hm' })
    const events: RunEvent[] = [...Object.values(EVERY_KIND).filter((e) => e.type !== 'done')]
    const rendered = events.flatMap((e) => stream.render(e))
    expect(JSON.stringify(rendered)).toContain('Oslo')
    expect(stream.render({ type: 'done', output }).length).toBeGreaterThan(0)
  })
})
