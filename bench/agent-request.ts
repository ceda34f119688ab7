/**
 * A coding agent's turn, shaped as Claude Code sends it (issue 42) but with texts of our own: a long
 * system prompt in blocks, an environment note as a `system`-role message inside `messages`, 18 tools
 * with long descriptions (one past 4,096 characters, as Claude Code's longest are), adaptive thinking,
 * `context_management`, `output_config`, `metadata` and the beta headers; and the same conversation
 * as a chat-completions request, as the agents speaking that API send it. Texts are built from a few
 * sentences combined, so their length is chosen, not pasted. The generated models' vocabulary is one
 * token per ASCII character: characters count tokens.
 */

const WHEN = [
  'Before you edit a file',
  'When a command fails',
  'If the user asks for a change',
  'When the project has tests',
  'Before you run a long command',
  'When two tools could do the job',
  'If the output is large',
  'When you are unsure of a path',
  'After a change compiles',
  'When the task has several steps',
  'If a file was changed by someone else',
]
const DO = [
  'read it first and keep its style',
  'say in one line what you will do',
  'prefer the dedicated tool over the shell',
  'run the narrowest check that covers it',
  'keep the change as small as the task allows',
  'quote paths that contain spaces',
  'ask rather than guess',
  'check the result before you report success',
  'write down the steps and mark each as it ends',
]
const WHY = [
  'so that the user can follow along',
  'because the working tree may hold work not yet committed',
  'since output past a few thousand lines is cut',
  'as writes outside the project are denied',
  'which keeps the conversation short',
  'so that a failure names its own cause',
  'because the user reads the answer in a terminal',
]

/** `count` sentences of agent guidance, varied by `seed`; about 100 characters each. */
function guidance(seed: number, count: number): string {
  return Array.from({ length: count }, (_, i) => {
    const n = seed * 7 + i
    return `${WHEN[n % WHEN.length]}, ${DO[(n * 5 + seed) % DO.length]}, ${WHY[(n * 3 + 1) % WHY.length]}.`
  }).join(' ')
}

const SECTIONS = ['Doing tasks', 'Tone and style', 'Using tools', 'Safety', 'Code changes', 'Reporting']

/** Over 6,000 characters, in sections, as a coding agent's system prompt runs. */
const SYSTEM_PROMPT = SECTIONS.map(
  (title, i) => `# ${title}\n${guidance(i + 1, 9).replaceAll('. ', '.\n- ')}`,
).join('\n\n')

type Param = [name: string, type: 'string' | 'number' | 'boolean', description: string]

/** Each tool: its name, what it does, how many sentences of guidance follow, its parameters. */
const TOOLS: [name: string, purpose: string, notes: number, params: Param[]][] = [
  [
    'Agent',
    'Starts a helper agent on a task of its own and returns its report.',
    2,
    [
      ['description', 'string', 'A few words naming the task.'],
      ['prompt', 'string', 'The whole task, with everything the helper needs to know.'],
      ['subagent_type', 'string', 'Which kind of helper to start.'],
    ],
  ],
  [
    'Bash',
    'Runs a shell command in the working directory and returns its output.',
    40,
    [
      ['command', 'string', 'The command to run.'],
      ['timeout', 'number', 'Milliseconds before the command is stopped; at most 600000.'],
      ['description', 'string', 'What the command does, in a few words.'],
      ['run_in_background', 'boolean', 'Return at once and report when the command ends.'],
    ],
  ],
  [
    'Glob',
    'Lists the files whose paths match a pattern, newest first.',
    0,
    [
      ['pattern', 'string', 'A glob pattern such as src/**/*.ts.'],
      ['path', 'string', 'The folder to search; the working directory when left out.'],
    ],
  ],
  [
    'Grep',
    'Searches file contents for a regular expression.',
    0,
    [
      ['pattern', 'string', 'The regular expression to look for.'],
      ['path', 'string', 'A file or folder to search.'],
      ['glob', 'string', 'Only files whose names match this pattern.'],
      ['output_mode', 'string', 'content, files_with_matches or count.'],
    ],
  ],
  [
    'Read',
    'Reads a file, with line numbers, from an absolute path.',
    1,
    [
      ['file_path', 'string', 'The absolute path of the file.'],
      ['offset', 'number', 'The first line to read.'],
      ['limit', 'number', 'How many lines to read.'],
    ],
  ],
  [
    'Edit',
    'Replaces an exact string in a file by another.',
    1,
    [
      ['file_path', 'string', 'The absolute path of the file.'],
      ['old_string', 'string', 'The text to replace, exactly as it is in the file.'],
      ['new_string', 'string', 'The text to put in its place.'],
      ['replace_all', 'boolean', 'Replace every occurrence rather than one.'],
    ],
  ],
  [
    'Write',
    'Writes a file, replacing what it held.',
    0,
    [
      ['file_path', 'string', 'The absolute path of the file.'],
      ['content', 'string', 'The whole content to write.'],
    ],
  ],
  [
    'WebFetch',
    'Fetches a page and answers a question about its content.',
    0,
    [
      ['url', 'string', 'The address of the page.'],
      ['prompt', 'string', 'What to find out from the page.'],
    ],
  ],
  [
    'WebSearch',
    'Searches the web and returns the results with their addresses.',
    0,
    [['query', 'string', 'What to search for.']],
  ],
  [
    'TodoWrite',
    'Keeps the list of steps of the current task and their state.',
    1,
    [['todos', 'string', 'The list as JSON: each step with its text and state.']],
  ],
  ['TaskStop', 'Stops a task running in the background.', 0, [['task_id', 'string', 'The task to stop.']]],
  [
    'Skill',
    'Runs one of the skills installed for this project.',
    0,
    [
      ['skill', 'string', 'The name of the skill.'],
      ['args', 'string', 'Arguments for the skill.'],
    ],
  ],
  [
    'ScheduleWakeup',
    'Wakes this agent again after a delay to continue a task.',
    1,
    [
      ['delay_seconds', 'number', 'How long to wait.'],
      ['reason', 'string', 'What to do when woken.'],
    ],
  ],
  [
    'SendMessage',
    'Sends a message to another agent of the team.',
    1,
    [
      ['to', 'string', 'The agent to write to.'],
      ['message', 'string', 'The message.'],
    ],
  ],
  [
    'EnterWorktree',
    'Moves the session into a new git worktree for isolated work.',
    0,
    [['name', 'string', 'A name for the worktree.']],
  ],
  [
    'ExitWorktree',
    'Leaves the worktree and returns to the main checkout.',
    0,
    [['keep', 'boolean', 'Keep the worktree rather than removing it.']],
  ],
  [
    'Monitor',
    'Watches a command or a file and reports what changes.',
    1,
    [
      ['command', 'string', 'The command whose output to watch.'],
      ['interval_seconds', 'number', 'How often to look.'],
    ],
  ],
  [
    'AskUser',
    'Asks the user a question with a few answers to choose from.',
    0,
    [
      ['question', 'string', 'The question.'],
      ['options', 'string', 'The answers offered, one a line.'],
    ],
  ],
]

interface Tool {
  name: string
  description: string
  input_schema: Record<string, unknown>
}

const AGENT_TOOLS: Tool[] = TOOLS.map(([name, purpose, notes, params], i) => ({
  name,
  description: notes === 0 ? purpose : `${purpose}\n\nUsage notes:\n${guidance(i + 9, notes)}`,
  input_schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: Object.fromEntries(params.map(([p, type, description]) => [p, { description, type }])),
    required: [params[0]![0]],
    additionalProperties: false,
  },
}))

const REMINDER =
  '<system-reminder>\nAs you answer the user, use the project notes below where they apply; they may ' +
  'not all be relevant to this task.\n</system-reminder>'

const environment = (session: string) =>
  `# Environment\n - Working directory: /home/dev/project-${session}\n - Is a git repository: true\n` +
  ` - Platform: linux\n - Shell: bash\n\n# Project notes\n${guidance(40, 3)}`

const ASK = 'Read src/server.ts and tell me why the health check times out under load.'
const FOLLOW_UP = 'Now add a test that fails without the fix.'

/** `answer` null: the first turn; otherwise the second, with the first's answer and a short new ask. */
export function anthropicTurn(
  model: string,
  session: string,
  answer: string | null,
): Record<string, unknown> {
  const text = (t: string) => ({ type: 'text', text: t })
  const cached = (t: string) => ({ ...text(t), cache_control: { type: 'ephemeral' } })
  return {
    model,
    messages: [
      { role: 'user', content: [text(REMINDER), text(ASK)] },
      { role: 'system', content: [cached(environment(session))] },
      ...(answer === null
        ? []
        : [
            { role: 'assistant', content: [text(answer)] },
            { role: 'user', content: [text(FOLLOW_UP)] },
          ]),
    ],
    system: [
      text(`agent-session: ${session}`),
      cached("You are a coding agent working in the user's project."),
      cached(SYSTEM_PROMPT),
    ],
    tools: AGENT_TOOLS,
    metadata: { user_id: JSON.stringify({ device_id: 'bench', session_id: session }) },
    max_tokens: 16,
    temperature: 0,
    thinking: { type: 'adaptive' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'high' },
    stream: true,
  }
}

/** The headers Claude Code sends beside its key. */
export const ANTHROPIC_HEADERS = {
  'anthropic-version': '2023-06-01',
  'anthropic-beta':
    'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,effort-2025-11-24',
  'x-app': 'cli',
}

/** The same turn as a chat-completions request. */
export function chatTurn(model: string, session: string, answer: string | null): Record<string, unknown> {
  return {
    model,
    messages: [
      {
        role: 'system',
        content: `agent-session: ${session}\nYou are a coding agent working in the user's project.\n${SYSTEM_PROMPT}`,
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: REMINDER },
          { type: 'text', text: ASK },
        ],
      },
      { role: 'system', content: environment(session) },
      ...(answer === null
        ? []
        : [
            { role: 'assistant', content: answer },
            { role: 'user', content: FOLLOW_UP },
          ]),
    ],
    tools: AGENT_TOOLS.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.input_schema },
    })),
    max_tokens: 16,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  }
}
