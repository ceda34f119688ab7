/**
 * Requests of the shape Codex CLI sends to `POST /v1/responses` (`wire_api = "responses"`), with these
 * tests' own texts: its first turn, and the second it sends after running the calls of the first.
 */
const args = (props: Record<string, unknown>) => ({
  type: 'object',
  properties: props,
  required: Object.keys(props),
  additionalProperties: false,
})

export const PATCH = '*** Begin Patch\n*** Add File: b.txt\n+hi\n*** End Patch'

export const CODEX_TOOLS = [
  {
    type: 'function',
    name: 'exec_command',
    description: 'Runs a command in a shell.',
    strict: false,
    parameters: args({ cmd: { type: 'string', description: 'The command.' } }),
  },
  {
    type: 'function',
    name: 'view_image',
    description: 'Shows an image file.',
    strict: false,
    parameters: args({ path: { type: 'string' } }),
  },
  {
    type: 'namespace',
    name: 'multi_agent_v1',
    description: 'Tools for sub-agents.',
    tools: [
      {
        type: 'function',
        name: 'spawn_agent',
        description: 'Starts a sub-agent.',
        strict: false,
        parameters: args({ message: { type: 'string' } }),
      },
      {
        type: 'function',
        name: 'close_agent',
        description: 'Closes a sub-agent.',
        strict: false,
        parameters: args({ target: { type: 'string' } }),
      },
    ],
  },
  { type: 'web_search', external_web_access: false },
  {
    type: 'custom',
    name: 'apply_patch',
    description: 'Edits files with a patch.',
    format: {
      type: 'grammar',
      syntax: 'lark',
      definition: 'start: "*** Begin Patch" LF hunk+ "*** End Patch"',
    },
  },
]

const FIRST_INPUT = [
  {
    type: 'message',
    id: 'msg_d5b1',
    role: 'developer',
    content: [{ type: 'input_text', text: 'You are a coding agent.' }],
  },
  {
    type: 'message',
    id: 'msg_2a0e',
    role: 'developer',
    content: [{ type: 'input_text', text: '<skills/>' }],
  },
  {
    type: 'message',
    id: 'msg_6c32',
    role: 'user',
    content: [{ type: 'input_text', text: '<environment_context><cwd>/w</cwd></environment_context>' }],
  },
  { type: 'message', id: 'msg_7093', role: 'user', content: [{ type: 'input_text', text: 'read a.txt' }] },
]

export function codexFirstRequest(over: Record<string, unknown> = {}) {
  return {
    model: 'tiny',
    stream: true,
    input: FIRST_INPUT,
    tools: CODEX_TOOLS,
    tool_choice: 'auto',
    parallel_tool_calls: true,
    reasoning: { summary: 'auto' },
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: 'thread-1',
    client_metadata: { thread_id: 'thread-1', turn_id: 'turn-1' },
    ...over,
  }
}

/** The turn after: what the model said and called, Codex's results, a reasoning item given back. */
export function codexSecondRequest(over: Record<string, unknown> = {}) {
  return codexFirstRequest({
    input: [
      ...FIRST_INPUT,
      { type: 'reasoning', summary: [], content: null, encrypted_content: 'opaque-reasoning' },
      {
        type: 'message',
        role: 'assistant',
        phase: 'commentary',
        content: [{ type: 'output_text', text: "I'll look.", annotations: [] }],
      },
      {
        type: 'function_call',
        id: 'fc_1',
        status: 'completed',
        name: 'exec_command',
        arguments: '{"cmd":"cat a.txt"}',
        call_id: 'call_1',
      },
      { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'hello' }] },
      { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'x' } },
      {
        type: 'function_call',
        name: 'close_agent',
        namespace: 'multi_agent_v1',
        arguments: '{"target":"a1"}',
        call_id: 'call_2',
      },
      { type: 'function_call_output', call_id: 'call_2', output: 'closed' },
      {
        type: 'custom_tool_call',
        id: 'ctc_1',
        status: 'completed',
        call_id: 'call_3',
        name: 'apply_patch',
        input: PATCH,
      },
      { type: 'custom_tool_call_output', call_id: 'call_3', output: 'Done!' },
    ],
    ...over,
  })
}
