/** Tool turns written as text, for a template that takes none (Gemma 2's roles must alternate). */
import { describe, expect, it } from 'vitest'
import type { ChatMessage } from '../../../host/inference/tool-calls.ts'
import { toolTurnsAsText } from '../../../host/inference/tool-turns-text.ts'

const ask: ChatMessage = {
  role: 'user',
  content: 'Weather in Oslo and Bergen?',
  images: ['data:image/png;base64,AA=='],
}
const calls: ChatMessage = {
  role: 'assistant',
  content: 'Looking.',
  tool_calls: [
    { id: 'a', name: 'weather', arguments: '{"city":"Oslo"}' },
    { id: 'b', name: 'forecast', arguments: '{"city":"Bergen"}' },
  ],
}

describe('toolTurnsAsText', () => {
  it('leaves a conversation without tool turns to the template', () => {
    expect(toolTurnsAsText([ask, { role: 'assistant', content: 'Sunny.' }, ask])).toBeNull()
  })

  it('writes calls as the assistant text and results as user turns, joining users that meet', () => {
    const written = toolTurnsAsText([
      ask,
      calls,
      { role: 'tool', content: '{"sky":"clear"}', tool_call_id: 'a' },
      { role: 'tool', content: 'rain', tool_call_id: 'b' },
      { role: 'user', content: 'Thanks.', images: ['data:image/png;base64,BB=='] },
    ])
    const results =
      'The result of the call to weather: {"sky":"clear"}\n\nThe result of the call to forecast: rain\n\n'
    expect(written).toEqual([
      ask,
      {
        role: 'assistant',
        content:
          'Looking.\n{"name": "weather", "arguments": {"city":"Oslo"}}\n{"name": "forecast", "arguments": {"city":"Bergen"}}',
      },
      {
        role: 'user',
        content: `${results}Thanks.`,
        images: ['data:image/png;base64,BB=='],
        // Where it stood: before its own message's text.
        images_at: [results.length],
      },
    ])
    expect(written?.every((m) => m.tool_calls === undefined && m.tool_call_id === undefined)).toBe(true)
  })

  it('writes a call with no text of its own as the call alone', () => {
    const written = toolTurnsAsText([
      ask,
      { ...calls, content: '', tool_calls: calls.tool_calls?.slice(0, 1) ?? [] },
      { role: 'tool', content: 'clear', tool_call_id: 'a' },
    ])
    expect(written?.[1]).toEqual({
      role: 'assistant',
      content: '{"name": "weather", "arguments": {"city":"Oslo"}}',
    })
  })
})
