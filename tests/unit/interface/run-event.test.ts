/**
 * The run's events, declared once: the schema and the type list the same kinds, and a renderer's cases
 * must name every kind (a table that lacks one does not compile).
 */
import { describe, expect, it } from 'vitest'
import { RunEventSchema, renderEach } from '../../../host/interface/run-event.ts'
import { EVERY_KIND } from './every-run-event.ts'

describe('run events', () => {
  it('are the kinds the schema reads, each read as it is', () => {
    const kinds = RunEventSchema.options.map((o) => o.shape.type.value)
    expect(kinds.toSorted()).toEqual(Object.keys(EVERY_KIND).toSorted())
    for (const event of Object.values(EVERY_KIND)) expect(RunEventSchema.parse(event)).toEqual(event)
  })

  it('go each to its own case', () => {
    const name = renderEach<string>({
      submitted: (e) => `submitted ${e.task}`,
      waiting: (e) => `waiting ${e.reason}`,
      assigned: (e) => `assigned ${e.peer}`,
      load: (e) => `load ${e.model} ${e.progress.done}`,
      reasoning: (e) => `reasoning ${e.text}`,
      token: (e) => `token ${e.text}`,
      'tool-call': (e) => `call ${e.index} ${e.name} ${e.arguments}`,
      done: () => 'done',
    })
    expect(Object.values(EVERY_KIND).map(name)).toEqual([
      'submitted uhCkkTASK',
      'waiting no peer has the model',
      'assigned uhCAkPEER',
      'load tiny 5',
      'reasoning hm',
      'token Oslo',
      'call 0 weather {"city":',
      'done',
    ])
  })

  it('are rendered by cases that name every kind', () => {
    const none = () => []
    // @ts-expect-error: a renderer without a case for `token` is refused by the type checker.
    const partial = renderEach({
      submitted: none,
      waiting: none,
      assigned: none,
      load: none,
      reasoning: none,
      done: none,
    })
    expect(() => partial(EVERY_KIND.token)).toThrow(TypeError)
  })
})
