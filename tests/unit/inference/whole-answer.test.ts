import { describe, expect, it } from 'vitest'
import { EngineRequestError } from '../../../host/inference/engine/server-stream.ts'
import { asWhole, wholeChat, wholeCompletion } from '../../../host/inference/engine/whole-answer.ts'

const timings = { cache_n: 3, predicted_n: 5, predicted_ms: 50, predicted_per_second: 100 }

describe('whole answers', () => {
  it('ask without the stream: its options dropped, the rest kept', () => {
    const body = {
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
      timings_per_token: true,
      verbose: true,
    }
    expect(asWhole(body)).toEqual({ messages: [], stream: false, verbose: true })
  })

  it.each([
    ['eos', 'Hello', 'Hello'],
    ['word', 'Hi \uFFFD', 'Hi \uFFFD'],
    // Cut inside a character: a stream never sent its bytes.
    ['limit', 'Hi \uFFFD\uFFFD', 'Hi '],
    ['limit', 'Hi \uFFFD\uFFFD\uFFFD\uFFFD', 'Hi \uFFFD'],
  ])('read /completion (stop %s: %j -> %j)', (stop, content, text) => {
    const answer = wholeCompletion(
      { content, stop: true, stop_type: stop, tokens_predicted: 5, tokens_evaluated: 9, timings },
      1000,
    )
    expect(answer).toMatchObject({
      text,
      stopType: stop,
      generatedTokens: 5,
      promptTokens: 9,
      cachedTokens: 3,
    })
    expect(answer.decodeRate).toBe(100)
    // The first of 5 tokens came 4/5 of the decoding before the answer arrived.
    expect(answer.firstOutputAt).toBe(960)
  })

  it('read a chat answer: text, calls, llama.cpp’s own stop, usage', () => {
    const base = { usage: { prompt_tokens: 7, completion_tokens: 2 }, timings: { predicted_n: 1 } }
    const text = wholeChat(
      {
        ...base,
        choices: [{ message: { content: 'Yes' }, finish_reason: 'stop' }],
        __verbose: { stop_type: 'word' },
      },
      500,
    )
    expect(text).toMatchObject({ text: 'Yes', stopType: 'word', promptTokens: 7, generatedTokens: 2 })
    expect(text.firstOutputAt).toBe(500)
    expect(text.decodeRate).toBeNull()
    const call = { type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }
    const calls = wholeChat({ ...base, choices: [{ message: { content: null, tool_calls: [call] } }] }, 0)
    expect(calls).toMatchObject({ text: '', stopType: 'tool_calls' })
    expect(calls.toolCalls).toEqual([{ name: 'weather', arguments: '{"city":"Oslo"}' }])
    const cut = wholeChat(
      { ...base, choices: [{ message: { content: 'ab\uFFFD' }, finish_reason: 'length' }] },
      0,
    )
    expect(cut).toMatchObject({ text: 'ab', stopType: 'limit' })
    const empty = wholeChat({ ...base, choices: [{ message: { content: '' }, finish_reason: 'stop' }] }, 0)
    expect(empty.firstOutputAt).toBeNull()
  })

  it('count a reasoning with no answer after it as every token', () => {
    const answer = wholeChat(
      { choices: [{ message: { content: '', reasoning_content: 'hmm' } }], usage: { completion_tokens: 4 } },
      0,
    )
    expect(answer).toMatchObject({ reasoning: 'hmm', reasoningTokens: 4 })
  })

  it('refuse an answer that is not an object', () => {
    expect(() => wholeChat([], 0)).toThrow(EngineRequestError)
    expect(() => wholeCompletion(null, 0)).toThrow(/not an object/)
  })
})
