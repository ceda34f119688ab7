/**
 * When the runners' refusals make a request the caller's mistake (answered 400) rather than a mesh
 * that could not run it (503): the engine's errors read as mistakes, and the rule over the runners
 * reached. The real engine and daemon are in tests/e2e/caller-errors.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { ContextOverflowError, EngineRequestError } from '../../../../host/inference/engine/server-stream.ts'
import { InvalidGrammarError } from '../../../../host/inference/generate.ts'
import { NoRunnerError } from '../../../../host/requests/direct/direct-errors.ts'
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
const turndown = (
  agent: string,
  why: 'invalid' | 'busy' | 'failed' | 'unreachable',
  mistake = null as object | null,
) => ({
  agent,
  why,
  message: `${agent} said ${why}`,
  mistake: mistake as typeof overflow | null,
})

describe('a request no runner ran', () => {
  it('is the caller’s mistake when a runner found one every runner would find', () => {
    const none = new NoRunnerError('tiny', [
      turndown('uhCAkA', 'busy'),
      turndown('uhCAkB', 'invalid', schema),
    ])
    const mistake = none.callerMistake()
    expect(mistake).toBeInstanceOf(RunError)
    expect(mistake).toMatchObject({
      failure: 'invalid_input',
      code: 'invalid_value',
      field: 'json_schema',
      message: 'uhCAkB said invalid',
    })
  })

  it('is the caller’s mistake for a prompt over the context only when every runner reached said so', () => {
    const everyOne = new NoRunnerError('tiny', [
      turndown('uhCAkA', 'invalid', overflow),
      turndown('uhCAkB', 'unreachable'),
      turndown('uhCAkC', 'invalid', overflow),
    ])
    expect(everyOne.callerMistake()).toMatchObject({
      failure: 'invalid_input',
      code: 'context_length_exceeded',
    })
    // Another runner (a larger context, maybe) failed for its own reasons: the mesh's fault, 503.
    const notEveryOne = new NoRunnerError('tiny', [
      turndown('uhCAkA', 'invalid', overflow),
      turndown('uhCAkB', 'failed'),
    ])
    expect(notEveryOne.callerMistake()).toBeNull()
    expect(new NoRunnerError('tiny', [turndown('uhCAkA', 'invalid')]).callerMistake()).toBeNull()
  })
})
