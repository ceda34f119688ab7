/** Parsers for option values shared by several commands; a bad value stops the CLI with a clear message. */
import { InvalidArgumentError } from 'commander'
import { NodeCapabilitySchema, TagSchema } from '../../zomes-bindings/index.ts'

export function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('must be a port number 0..65535 (0 picks a free port)')
  }
  return port
}

export function collectTag(value: string, previous: string[] = []): string[] {
  const parsed = TagSchema.safeParse(value)
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((i) => i.message).join('; '))
  return previous.includes(value) ? previous : [...previous, value]
}

export function parseName(value: string): string {
  const parsed = NodeCapabilitySchema.shape.name.safeParse(value)
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((i) => i.message).join('; '))
  return value
}
