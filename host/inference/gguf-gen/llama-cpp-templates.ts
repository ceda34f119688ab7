/**
 * Chat templates from llama.cpp's own collection (`models/templates/*.jinja` in the bundled source the
 * engine is built from), read as they are, with the control tokens each one writes: generated models
 * carrying them meet the template handling llama.cpp has for the real families (reasoning opened by
 * the template or by the model, tool-call formats of their own, templates it has no parser for).
 * The tags a model writes itself (`<think>`, `<tool_call>`, `<minimax:tool_call>`) stay plain text,
 * as the reasoning and tool-call parsers read them from the output. The tokenizer puts no space after
 * a control token, as the families' own do (byte-level BPE; Gemma's SentencePiece has it off), save
 * Phi-3.5's SentencePiece.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { engineBuild } from '../engine/engine-build.ts'
import type { ChatTemplate } from './chat-templates.ts'

/** A template of the collection: its file, and its control tokens (the first ends a turn: the EOS). */
interface CollectionEntry {
  file: string
  specials: string[]
  /** Its tokenizer puts a space before text after a control token (SentencePiece's default). */
  spacePrefix?: true
  /** What it shows about the engine's handling. */
  why: string
}

const DEEPSEEK_SPECIALS = [
  '<｜end▁of▁sentence｜>',
  '<｜User｜>',
  '<｜Assistant｜>',
  '<｜tool▁calls▁begin｜>',
  '<｜tool▁calls▁end｜>',
  '<｜tool▁call▁begin｜>',
  '<｜tool▁call▁end｜>',
  '<｜tool▁sep｜>',
  '<｜tool▁outputs▁begin｜>',
  '<｜tool▁outputs▁end｜>',
  '<｜tool▁output▁begin｜>',
  '<｜tool▁output▁end｜>',
]

export const LLAMA_CPP_TEMPLATES = {
  'deepseek-r1': {
    file: 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja',
    specials: DEEPSEEK_SPECIALS,
    why: 'thinking opened by the template itself',
  },
  'minimax-m2': {
    file: 'MiniMax-M2.jinja',
    specials: ['[e~[', ']~!b[', ']~b]'],
    why: 'thinking opened by the template, XML-style tool calls',
  },
  'glm-4.6': {
    file: 'GLM-4.6.jinja',
    specials: ['<|user|>', '<|assistant|>', '<|system|>', '<|observation|>', '[gMASK]', '<sop>'],
    why: 'thinking the model may open (its switch closes it in the prompt), XML-style tool calls',
  },
  'kimi-k2': {
    file: 'moonshotai-Kimi-K2.jinja',
    specials: [
      '<|im_end|>',
      '<|im_system|>',
      '<|im_user|>',
      '<|im_assistant|>',
      '<|im_middle|>',
      '<|tool_calls_section_begin|>',
      '<|tool_calls_section_end|>',
      '<|tool_call_begin|>',
      '<|tool_call_argument_begin|>',
      '<|tool_call_end|>',
    ],
    why: "llama.cpp's own parser, which makes no grammar of a JSON schema",
  },
  qwen3: {
    file: 'Qwen-Qwen3-0.6B.jinja',
    specials: ['<|im_end|>', '<|im_start|>'],
    why: 'thinking the model may open (enable_thinking closes it in the prompt)',
  },
  'qwen2.5': {
    file: 'Qwen-Qwen2.5-7B-Instruct.jinja',
    specials: ['<|im_end|>', '<|im_start|>'],
    why: 'ChatML, calls in <tool_call> tags',
  },
  'llama3.2': {
    file: 'meta-llama-Llama-3.2-3B-Instruct.jinja',
    specials: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|python_tag|>'],
    why: 'Llama 3, calls as bare JSON',
  },
  'mistral-small-3.2': {
    file: 'Mistral-Small-3.2-24B-Instruct-2506.jinja',
    specials: [
      '</s>',
      '[INST]',
      '[/INST]',
      '[SYSTEM_PROMPT]',
      '[/SYSTEM_PROMPT]',
      '[TOOL_CALLS]',
      '[ARGS]',
      '[CALL_ID]',
      '[AVAILABLE_TOOLS]',
      '[/AVAILABLE_TOOLS]',
      '[TOOL_RESULTS]',
      '[/TOOL_RESULTS]',
      '[TOOL_CONTENT]',
      '[IMG]',
    ],
    why: 'Mistral, [TOOL_CALLS] with [ARGS]',
  },
  'phi3.5': {
    file: 'microsoft-Phi-3.5-mini-instruct.jinja',
    specials: ['<|end|>', '<|system|>', '<|user|>', '<|assistant|>'],
    spacePrefix: true,
    why: 'Phi-3, no tools in the template',
  },
  gemma2: {
    file: 'google-gemma-2-2b-it.jinja',
    specials: ['<end_of_turn>', '<start_of_turn>'],
    why: 'Gemma, no system role',
  },
} as const satisfies Record<string, CollectionEntry>

export type LlamaCppTemplate = keyof typeof LLAMA_CPP_TEMPLATES

export const LLAMA_CPP_TEMPLATE_NAMES = Object.keys(LLAMA_CPP_TEMPLATES) as LlamaCppTemplate[]

/** The template as llama.cpp's collection has it, from the engine's source checkout. */
export async function llamaCppTemplate(name: LlamaCppTemplate): Promise<ChatTemplate> {
  const entry: CollectionEntry = LLAMA_CPP_TEMPLATES[name]
  const dir = join((await engineBuild()).root, 'src', 'models', 'templates')
  return {
    template: await readFile(join(dir, entry.file), 'utf8'),
    specials: [...entry.specials],
    spacePrefix: entry.spacePrefix ?? false,
  }
}
