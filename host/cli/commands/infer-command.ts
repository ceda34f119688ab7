/**
 * `ripple infer "<prompt>"`: runs `infer.generate` on the mesh, the way `/v1` does (straight to a peer
 * with the model, the signed record following; through the scheduling round with `--fan-out`,
 * `--route round` or without `--model`), and prints the text. With `--stream` the text is printed as
 * the running peer produces it; either way a line on stderr says who ran it, with which model file,
 * and how fast. With `--fan-out N`, N peers answer and the text printed is the one most of them agree
 * on; a line per peer on stderr says whether its answer agrees.
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import { printable, printableJson, printableText } from '../../text/printable.ts'
import { type InferGenerateInput, InferGenerateOutputSchema } from '../../workers/infer-generate.ts'
import { parseIntegerIn, parseNumberIn } from '../cli-options.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'
import { reportVotes } from './task-text.ts'

interface InferOptions extends TargetOptions {
  model?: string
  maxTokens: number
  temperature: number
  seed?: number
  fanOut: number
  stream?: boolean
  route?: 'direct' | 'round'
}

export function inferCommand(): Command {
  return addTargetOptions(
    new Command('infer')
      .description('generate text for a prompt on the mesh (infer.generate)')
      .argument('<prompt>')
      .option('--model <name>', 'model to use; routes the task to a peer that has it')
      .option('--max-tokens <n>', 'most tokens to generate', parseIntegerIn(1, 32_768), 256)
      .option(
        '--temperature <t>',
        'sampling temperature; 0 is greedy (deterministic)',
        parseNumberIn(0, 2),
        0,
      )
      .option('--seed <n>', 'sampling seed (default: random, reported)', parseIntegerIn(0, 0xffffffff))
      .option(
        '--fan-out <n>',
        'ask n different peers and print the answer most agree on',
        parseIntegerIn(1, 16),
        1,
      )
      .option('--stream', 'print the text as it is generated')
      .addOption(
        new Option(
          '--route <way>',
          'direct: straight to a runner (default); round: as a task, claimed and receipted',
        ).choices(['direct', 'round']),
      ),
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
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    }
    const stream = options.stream === true && !options.json
    const streamed: string[] = []
    const answer = await api.runRequest(
      { kind: 'infer.generate', model: options.model, input, fan_out: options.fanOut, route: options.route },
      {
        onEvent: (event) => {
          if (event.type === 'waiting')
            process.stderr.write(`ripple: waiting for a claim: ${printable(event.reason)}\n`)
          if (event.type === 'token' && stream) {
            streamed.push(event.text)
            process.stdout.write(printableText(event.text))
          }
        },
      },
    )
    const output = InferGenerateOutputSchema.parse(answer.output)
    if (options.json) {
      process.stdout.write(`${printableJson(output)}\n`)
      return
    }
    // Tokens through the round are ephemeral signals: those sent while a connection was down (a
    // relay's limit cut it, say) never arrive. The signed answer has the whole text: a gap is mended.
    const gap = stream && streamed.join('') !== output.text
    if (gap)
      process.stderr.write(
        '\nripple: part of the stream was lost on the way (a connection dropped); the whole answer:\n',
      )
    process.stdout.write(stream && !gap ? '\n' : `${printableText(output.text)}\n`)
    const t = output.timings
    process.stderr.write(
      `ripple: ${t.generated_tokens} tokens in ${Math.round(t.total_ms)} ms` +
        `${t.tokens_per_second === null ? '' : ` (${t.tokens_per_second} tok/s)`} on ${answer.peer.slice(0, 12)}…, ` +
        `model ${printable(output.model.name)} ${output.model.file_hash.slice(0, 12)}…, seed ${output.params.seed}\n`,
    )
    process.stderr.write(`ripple: on record: ripple task show ${answer.task}\n`)
    // Fan-out is a task: its votes are on record.
    if (options.fanOut > 1) reportVotes(await api.getTask(answer.task))
  })
}
