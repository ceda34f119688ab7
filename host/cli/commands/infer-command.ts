/**
 * `ripple infer "<prompt>"`: submits an `infer.generate` task to the mesh (any peer with the model
 * may run it) and prints the text. With `--stream` the text is printed as the running peer produces
 * it; either way a line on stderr says who ran it, with which model file, and how fast. With
 * `--fan-out N`, N peers answer and the text printed is the one most of them agree on; a line per
 * peer on stderr says whether its answer agrees.
 */
import { Command, InvalidArgumentError } from 'commander'

import type { ApiClient } from '../../api/client/index.ts'
import {
  acceptedOutput,
  acceptedResult,
  type SubmitTaskBody,
  type TaskView,
  whyEnded,
} from '../../api/contract/index.ts'
import { printable, printableJson, printableText } from '../../text/printable.ts'

import type { InferGenerateInput, InferGenerateOutput } from '../../workers/infer-generate.ts'
import { parseIntegerIn } from '../cli-options.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'
import { reportVotes, reportWaiting, TaskEndedError } from './task-command.ts'

interface InferOptions extends TargetOptions {
  model?: string
  maxTokens: number
  temperature: number
  seed?: number
  fanOut: number
  stream?: boolean
}

export function inferCommand(): Command {
  return addTargetOptions(
    new Command('infer')
      .description('generate text for a prompt on the mesh (infer.generate)')
      .argument('<prompt>')
      .option('--model <name>', 'model to use; routes the task to a peer that has it')
      .option('--max-tokens <n>', 'most tokens to generate', parseIntegerIn(1, 32_768), 256)
      .option('--temperature <t>', 'sampling temperature; 0 is greedy (deterministic)', parseTemperature, 0)
      .option('--seed <n>', 'sampling seed (default: random, reported)', parseIntegerIn(0, 0xffffffff))
      .option(
        '--fan-out <n>',
        'ask n different peers and print the answer most agree on',
        parseIntegerIn(1, 16),
        1,
      )
      .option('--stream', 'print the text as it is generated'),
  ).action(async (prompt: string, options: InferOptions) => {
    if (options.stream && options.fanOut > 1) {
      // Which peer's text is the answer is known only once they all answered.
      throw new InvalidArgumentError(
        "--stream shows one peer's text as it comes; it does not go with --fan-out",
      )
    }
    const api = await connectDaemon(options)
    const input: InferGenerateInput = {
      prompt,
      max_tokens: options.maxTokens,
      temperature: options.temperature,
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    }
    const body: SubmitTaskBody = {
      kind: 'infer.generate',
      input,
      requirements: options.model === undefined ? {} : { model: options.model },
      fan_out: options.fanOut,
    }
    const ref = await api.submitTask(body)
    const streamed: string[] = []
    const view = await follow(api, ref.action_hash, options.stream === true && !options.json, streamed)
    if (view.state.status !== 'done')
      throw new TaskEndedError(ref.action_hash, view.state.status, whyEnded(view))
    const output = acceptedOutput(view) as InferGenerateOutput
    if (options.json) {
      process.stdout.write(`${printableJson(output)}\n`)
      return
    }
    // Tokens are ephemeral signals: those sent while a connection was down (a relay's limit cut it,
    // say) never arrive. The signed result has the whole text, so a gap is said and mended.
    const gap = options.stream === true && streamed.join('') !== output.text
    if (gap)
      process.stderr.write(
        '\nripple: part of the stream was lost on the way (a connection dropped); the whole answer:\n',
      )
    process.stdout.write(options.stream && !gap ? '\n' : `${printableText(output.text)}\n`)
    const ranOn = acceptedResult(view)?.author ?? '?'
    const t = output.timings
    process.stderr.write(
      `ripple: ${t.generated_tokens} tokens in ${Math.round(t.total_ms)} ms` +
        `${t.tokens_per_second === null ? '' : ` (${t.tokens_per_second} tok/s)`} on ${ranOn.slice(0, 12)}…, ` +
        `model ${printable(output.model.name)} ${output.model.file_hash.slice(0, 12)}…, seed ${output.params.seed}\n`,
    )
    reportVotes(view)
  })
}

/** Follows the task until it ends, printing streamed text on stdout when asked; answers its final view. */
function follow(api: ApiClient, hash: string, stream: boolean, streamed: string[]): Promise<TaskView> {
  return api.followTask(hash, {
    onEvent: async (event) => {
      if (event.type === 'waiting') await reportWaiting(api, hash, event)
      if (event.type !== 'progress') return
      const { type, data: progress } = event.progress
      if (type === 'token' && stream && typeof progress === 'string') {
        streamed.push(progress)
        process.stdout.write(printableText(progress))
      }
      // A model load can take a while: say so.
      if (type === 'load' && (progress as { fraction?: number }).fraction === 1) {
        process.stderr.write(`ripple: model loaded on ${event.assignee.slice(0, 12)}…\n`)
      }
    },
  })
}

function parseTemperature(value: string): number {
  const t = Number(value)
  if (!Number.isFinite(t) || t < 0 || t > 2) throw new InvalidArgumentError('must be a number 0..2')
  return t
}
