/**
 * A second try at an answer (the engine's plain-text one) sends only its text past what the first
 * sent, and a first try that sent a piece of a call rules it out.
 */
import { describe, expect, it } from 'vitest'
import { outputSoFar } from '../../../host/inference/engine/output-so-far.ts'
import type { OutputEvent } from '../../../host/interface/run-event.ts'

describe('outputSoFar', () => {
  it('passes the first try on, then sends of the second only the text past it', () => {
    const heard: OutputEvent[] = []
    const sent = outputSoFar((e) => heard.push(e))
    sent.sinks.onEvent?.({ type: 'reasoning', text: 'hm' })
    sent.sinks.onEvent?.({ type: 'token', text: 'He' })
    sent.sinks.onEvent?.({ type: 'token', text: 'llo' })
    expect(sent.called()).toBe(false)
    const rest = sent.rest()
    for (const text of ['Hel', 'lo w', 'orld']) rest.onEvent?.({ type: 'token', text })
    rest.onEvent?.({ type: 'reasoning', text: 'again' })
    expect(heard).toEqual([
      { type: 'reasoning', text: 'hm' },
      { type: 'token', text: 'He' },
      { type: 'token', text: 'llo' },
      { type: 'token', text: ' w' },
      { type: 'token', text: 'orld' },
    ])
  })

  it('says when a piece of a call went out', () => {
    const sent = outputSoFar(() => {})
    sent.sinks.onEvent?.({ type: 'tool-call', index: 0, name: 'f', arguments: '{' })
    expect(sent.called()).toBe(true)
  })

  it('has no sinks for a caller that takes the answer whole', () => {
    const sent = outputSoFar(undefined)
    expect(sent.sinks).toEqual({})
    expect(sent.rest()).toEqual({})
  })
})
