/** Requests of Claude Code's shape (the texts are these tests' own), for the Anthropic door's tests. */
const long = (n: number) =>
  `Use this tool well. ${'Say what it does. '.repeat(Math.ceil(n / 18))}`.slice(0, n)
export const schema = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }

/** A first request of Claude Code's shape: the system prompt in parts, and one more as the last message. */
export function claudeCodeRequest(over: Record<string, unknown> = {}) {
  return {
    model: 'tiny',
    max_tokens: 32000,
    stream: true,
    system: [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=9.9.9; cch=a1b2c;' },
      { type: 'text', text: 'You are a helper.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: '\nBe brief.', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<reminder>a note</reminder>' },
          { type: 'text', text: 'say hi' },
        ],
      },
      {
        role: 'system',
        content: [{ type: 'text', text: '# Place\nA test.', cache_control: { type: 'ephemeral' } }],
      },
    ],
    thinking: { type: 'adaptive', display: 'omitted' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'high' },
    metadata: { user_id: '{"device_id":"d"}' },
    tools: [
      ...Array.from({ length: 20 }, (_, i) => ({
        name: `Tool${i}`,
        description: long(4096 + 100 * i),
        input_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema },
        ...(i === 0 && { cache_control: { type: 'ephemeral' }, strict: true }),
      })),
      { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
    ],
    ...over,
  }
}
