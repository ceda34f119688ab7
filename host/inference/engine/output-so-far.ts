/**
 * What of an answer already went out to its caller, for a second try at the same prompt (the
 * engine's plain-text answer after llama.cpp's parser refused the first): the text sent is not sent
 * again, and a call sent in pieces rules the second try out (it would leave the call half made).
 */
import type { OutputEvent } from '../../interface/run-event.ts'
import type { Sinks } from './server-stream.ts'

export function outputSoFar(onEvent: ((event: OutputEvent) => void) | undefined) {
  let text = ''
  let called = false
  return {
    /** The first try's sinks: the caller's, noting what passes. */
    sinks: (onEvent
      ? {
          onEvent: (event: OutputEvent) => {
            if (event.type === 'token') text += event.text
            if (event.type === 'tool-call') called = true
            onEvent(event)
          },
        }
      : {}) satisfies Sinks,
    /** A piece of a call went out. */
    called: () => called,
    /** The second try's sinks: its text past what went out (its reasoning went out already). */
    rest(): Sinks {
      let sent = text.length
      if (!onEvent) return {}
      return {
        onEvent: (event) => {
          if (event.type !== 'token') return
          const fresh = event.text.slice(Math.max(0, sent))
          sent -= event.text.length
          if (fresh) onEvent({ type: 'token', text: fresh })
        },
      }
    },
  }
}
