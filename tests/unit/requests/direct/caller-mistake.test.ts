/**
 * When the runners' refusals make a request the caller's mistake (answered 400) rather than a mesh
 * that could not run it (503): the engine's errors read as mistakes, and the rule over the runners
 * reached; the refusals as the run's outcome (NoRunnerError is the RunError the caller gets). The real engine and daemon are in tests/e2e/caller-errors.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { ContextOverflowError, EngineRequestError } from '../../../../host/inference/engine/server-stream.ts'
import { InvalidGrammarError } from '../../../../host/inference/generate.ts'
import { NoRunnerError, type Turndown } from '../../../../host/requests/direct/direct-errors.ts'
import { callerMistake, RunError } from '../../../../host/requests/run-errors.ts'

describe('the engine’s errors', () => {
  it('read as the caller’s mistakes, with the input field at fault; its own failures do not', () => {
    const chat = { messages: [] }
    expect(callerMistake(new ContextOverflowError(540_025, 256), chat)).toEqual({
      code: 'context_length_exceeded',
      field: 'messages',
    })
    expect(new ContextOverflowError(540_025, 256).message).toMatch(
      /540025 tokens, over the 256-token context/,
    )
    expect(callerMistake(new ContextOverflowError(9, 8), { prompt: 'x' })).toMatchObject({ field: 'prompt' })
    expect(callerMistake(new InvalidGrammarError('json_schema', new Error('bad')), chat)).toEqual({
      code: 'invalid_value',
      field: 'json_schema',
    })
    expect(callerMistake(new EngineRequestError(400, 'invalid_request_error', 'no'), chat)).toMatchObject({
      code: 'invalid_request',
    })
    expect(callerMistake(new EngineRequestError(500, 'server_error', 'the model failed'), chat)).toBeNull()
    expect(callerMistake(new Error('the connection to llama-server broke'), chat)).toBeNull()
  })
})

const overflow = { code: 'context_length_exceeded', field: 'messages' }
const schema = { code: 'invalid_value', field: 'json_schema' }
const turndown = (agent: string, why: Turndown['why'], mistake: object = {}): Turndown => ({
  agent,
  why,
  message: `${agent} said ${why}`,
  ...mistake,
})

describe('a request no runner ran', () => {
  it('is the caller’s mistake when a runner found one every runner would find', () => {
    const none = new NoRunnerError('tiny', [
      turndown('uhCAkA', 'busy'),
      turndown('uhCAkB', 'invalid', schema),
    ])
    expect(none).toBeInstanceOf(RunError)
    expect(none).toMatchObject({
      failureKind: 'invalid',
      code: 'invalid_value',
      field: 'json_schema',
      message: 'uhCAkB said invalid',
    })
  })

  it('is the caller’s mistake for a prompt over the context only when every runner reached said so', () => {
    const everyOne = new NoRunnerError('tiny', [
      turndown('uhCAkA', 'invalid', overflow),
      turndown('uhCAkB', 'unavailable/unreachable'),
      turndown('uhCAkC', 'invalid', overflow),
    ])
    expect(everyOne).toMatchObject({ failureKind: 'invalid', code: 'context_length_exceeded' })
    // Another runner (a larger context, maybe) failed for its own reasons: the mesh's fault, 503.
    const notEveryOne = new NoRunnerError('tiny', [
      turndown('uhCAkA', 'invalid', overflow),
      turndown('uhCAkB', 'failed'),
    ])
    expect(notEveryOne).toMatchObject({ failureKind: 'unavailable', code: 'no_capacity' })
    expect(new NoRunnerError('tiny', [turndown('uhCAkA', 'invalid')]).failureKind).toBe('unavailable')
  })

  it('is the run outcome the refusals make: busy, no room, a limit that lifts, or none could', () => {
    const outcome = (...whys: Turndown['why'][]) => {
      const { failureKind, code, retryAfterS } = new NoRunnerError(
        'tiny',
        whys.map((why, i) =>
          turndown(`uhCAk${i}`, why, why === 'busy/limited' ? { retry_after_s: 60 * (i + 1) } : {}),
        ),
      )
      return { failureKind, code, retryAfterS }
    }
    expect(outcome('busy', 'unavailable/unreachable')).toEqual({
      failureKind: 'busy',
      code: 'peers_busy',
      retryAfterS: null,
    })
    expect(outcome('unavailable/no_room')).toEqual({
      failureKind: 'unavailable/no_room',
      code: 'no_room',
      retryAfterS: null,
    })
    expect(outcome('busy', 'busy/limited', 'busy/limited')).toEqual({
      failureKind: 'busy/limited',
      code: 'rate_limit_exceeded',
      retryAfterS: 120,
    })
    expect(outcome('unavailable/no_room', 'busy')).toEqual({
      failureKind: 'unavailable',
      code: 'no_capacity',
      retryAfterS: null,
    })
    expect(outcome()).toEqual({ failureKind: 'unavailable', code: 'no_capacity', retryAfterS: null })
  })
})
