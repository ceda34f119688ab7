/** What of llama-server's refusals is the request's fault, or calls for another try (engine-model.ts). */
import { InvalidGrammarError } from '../generate.ts'
import { EngineRequestError } from './server-stream.ts'
import { NO_PARSER, TemplateRenderError } from './template-render.ts'

// llama.cpp's words when a model's output does not fit its chat format's tool-call syntax.
const OFF_FORMAT = /does not match the expected/
// llama-server's words when a request's sampler (its grammar, its reasoning budget) cannot start.
export const SAMPLERS_FAILED = /Failed to initialize samplers/

/** The chat endpoint read no call: the output is off its format, or llama.cpp has no parser for it. */
export function unparsed(err: unknown): boolean {
  if (!(err instanceof EngineRequestError) || err instanceof TemplateRenderError) return false
  return OFF_FORMAT.test(err.message) || NO_PARSER.test(err.message)
}

/** A refused schema or grammar is the request's fault, said as such. */
export function grammarOr(err: EngineRequestError, body: Record<string, unknown>): Error {
  const constrained = 'json_schema' in body || 'grammar' in body || 'tools' in body
  if (err.status === 400 && constrained && /grammar|schema|sampler/i.test(err.message)) {
    const kind = 'grammar' in body ? 'grammar' : 'tools' in body ? 'tools' : 'json_schema'
    return new InvalidGrammarError(kind, err)
  }
  return err
}
