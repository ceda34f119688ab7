/**
 * Chat templates of the common model families, as their GGUFs carry them (`tokenizer.chat_template`),
 * with the special tokens each one needs in the vocabulary: generated models must meet the same
 * template handling (tool-call formats, stop tokens, no system role) that real ones do.
 */

export type ChatTemplateFamily = 'chatml' | 'llama3' | 'mistral' | 'phi3' | 'gemma' | 'plain'

export const CHAT_TEMPLATE_FAMILIES: readonly ChatTemplateFamily[] = [
  'chatml',
  'llama3',
  'mistral',
  'phi3',
  'gemma',
  'plain',
]

export interface ChatTemplate {
  template: string
  /** Control tokens the template writes; the first is the end-of-turn token (the model's EOS). */
  specials: string[]
  /**
   * Whether the tokenizer puts a space before text that follows a control token (SentencePiece's
   * way, the default). Byte-level BPE families do not: their generation prompt tokenizes as the
   * prompt does, which llama.cpp's grammars and reasoning budget replay token by token.
   */
  spacePrefix?: boolean
}

// Qwen 2.5's ChatML, tools described in the system turn and called in <tool_call> tags.
const CHATML = `{%- if tools %}<|im_start|>system
{% if messages[0].role == 'system' %}{{ messages[0].content }}{% else %}You are a helpful assistant.{% endif %}

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{%- for tool in tools %}
{{ tool | tojson }}
{%- endfor %}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call><|im_end|>
{% elif messages[0].role == 'system' %}<|im_start|>system
{{ messages[0].content }}<|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% elif message.role == 'assistant' %}<|im_start|>assistant
{% if message.content %}{{ message.content }}{% endif %}
{%- if message.tool_calls %}{% for tool_call in message.tool_calls %}
<tool_call>
{"name": "{{ tool_call.function.name }}", "arguments": {{ tool_call.function.arguments | tojson }}}
</tool_call>{% endfor %}{% endif %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}`

// Llama 3.2's: header tokens, tools as JSON in the first user turn, calls as bare JSON.
const LLAMA3 = `{{- bos_token }}
{%- if messages[0].role == 'system' %}{%- set system_message = messages[0].content %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- endif %}
<|start_header_id|>system<|end_header_id|>

Cutting Knowledge Date: December 2023

{{ system_message }}<|eot_id|>
{%- for message in messages %}
{%- if message.role == 'user' and loop.first and tools %}<|start_header_id|>user<|end_header_id|>

Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.

Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}. Do not use variables.

{% for t in tools %}{{ t | tojson }}

{% endfor %}{{ message.content }}<|eot_id|>
{%- elif message.role == 'assistant' and message.tool_calls %}<|start_header_id|>assistant<|end_header_id|>

{% for tool_call in message.tool_calls %}{"name": "{{ tool_call.function.name }}", "parameters": {{ tool_call.function.arguments | tojson }}}{% endfor %}<|eot_id|>
{%- elif message.role == 'tool' %}<|start_header_id|>ipython<|end_header_id|>

{{ message.content }}<|eot_id|>
{%- else %}<|start_header_id|>{{ message.role }}<|end_header_id|>

{{ message.content }}<|eot_id|>
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>

{% endif %}`

// Mistral v3's: [INST] turns, tools listed before the last user turn, calls after [TOOL_CALLS].
const MISTRAL = `{{- bos_token }}
{%- if messages[0].role == 'system' %}{%- set system_message = messages[0].content %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- set loop_messages = messages %}{%- endif %}
{%- for message in loop_messages %}
{%- if message.role == 'user' %}
{%- if tools and loop.last %}[AVAILABLE_TOOLS] [{% for tool in tools %}{"type": "function", "function": {{ tool.function | tojson }}}{% if not loop.last %}, {% endif %}{% endfor %}][/AVAILABLE_TOOLS]{% endif %}
{%- if loop.last and system_message %}[INST] {{ system_message }}

{{ message.content }}[/INST]{% else %}[INST] {{ message.content }}[/INST]{% endif %}
{%- elif message.role == 'assistant' and message.tool_calls %}[TOOL_CALLS] [{% for tool_call in message.tool_calls %}{"name": "{{ tool_call.function.name }}", "arguments": {{ tool_call.function.arguments | tojson }}}{% if not loop.last %}, {% endif %}{% endfor %}]</s>
{%- elif message.role == 'assistant' %} {{ message.content }}</s>
{%- elif message.role == 'tool' %}[TOOL_RESULTS] {"content": {{ message.content | tojson }}}[/TOOL_RESULTS]
{%- endif %}
{%- endfor %}`

// Phi-3's: <|role|> turns closed by <|end|>, no tools.
const PHI3 = `{% for message in messages %}{% if message.role == 'system' %}<|system|>
{{ message.content }}<|end|>
{% elif message.role == 'user' or message.role == 'tool' %}<|user|>
{{ message.content }}<|end|>
{% elif message.role == 'assistant' %}<|assistant|>
{{ message.content }}<|end|>
{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>
{% else %}{{ eos_token }}{% endif %}`

// Gemma's: no system role (it opens the first user turn), the assistant is "model".
const GEMMA = `{{ bos_token }}{% if messages[0].role == 'system' %}{% set first_user_prefix = messages[0].content + '

' %}{% set loop_messages = messages[1:] %}{% else %}{% set first_user_prefix = "" %}{% set loop_messages = messages %}{% endif %}{% for message in loop_messages %}{% if message.role == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = 'user' %}{% endif %}<start_of_turn>{{ role }}
{% if loop.first %}{{ first_user_prefix }}{% endif %}{{ message.content | trim }}<end_of_turn>
{% endfor %}{% if add_generation_prompt %}<start_of_turn>model
{% endif %}`

// The plain <|role|> one that broke structured output (a stop trigger cut the grammar's output).
const PLAIN = `{% for message in messages %}<|{{ message.role }}|>
{{ message.content }}
{% endfor %}{% if add_generation_prompt %}<|assistant|>
{% endif %}`

export const CHAT_TEMPLATES: Readonly<Record<ChatTemplateFamily, ChatTemplate>> = {
  chatml: { template: CHATML, specials: ['<|im_end|>', '<|im_start|>'] },
  llama3: { template: LLAMA3, specials: ['<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>'] },
  mistral: {
    template: MISTRAL,
    specials: [
      '</s>',
      '[INST]',
      '[/INST]',
      '[TOOL_CALLS]',
      '[AVAILABLE_TOOLS]',
      '[/AVAILABLE_TOOLS]',
      '[TOOL_RESULTS]',
      '[/TOOL_RESULTS]',
    ],
  },
  phi3: { template: PHI3, specials: ['<|end|>', '<|system|>', '<|user|>', '<|assistant|>'] },
  gemma: { template: GEMMA, specials: ['<end_of_turn>', '<start_of_turn>'] },
  plain: { template: PLAIN, specials: ['</s>'] },
}
