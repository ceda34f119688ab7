/** The tests' run events (interface/run-event.ts). */
import type { RunEvent, RunEventType } from '../../../host/interface/run-event.ts'

/** One event of every kind: the type checker asks for a new kind here first. */
export const EVERY_KIND: { [T in RunEventType]: Extract<RunEvent, { type: T }> } = {
  submitted: { type: 'submitted', task: 'uhCkkTASK' },
  waiting: { type: 'waiting', reason: 'no peer has the model' },
  assigned: { type: 'assigned', peer: 'uhCAkPEER' },
  load: { type: 'load', model: 'tiny', progress: { stage: 'load', done: 5, total: 100, unit: 'percent' } },
  reasoning: { type: 'reasoning', text: 'hm' },
  token: { type: 'token', text: 'Oslo' },
  'tool-call': { type: 'tool-call', index: 0, name: 'weather', arguments: '{"city":' },
  done: { type: 'done', output: { text: 'Oslo' } },
}
