/**
 * A custom tool's input read out of its call's arguments as they stream: the model writes
 * `{"input": "..."}` in pieces, and the text of that string is handed on as far as it can be decoded
 * (never inside an escape, nor between the two halves of a surrogate pair). Arguments of any other
 * shape stream nothing: their input is read once they are whole. Pure.
 */

/** The arguments' opening, up to the string's first character. */
const OPENING = /^\s*\{\s*"input"\s*:\s*"/
/** Past this many characters without the opening, the arguments are not of that shape. */
const OPENING_MAX = 64
/** A high surrogate's escape at the end of a segment: its low half is still to come. */
const HIGH_SURROGATE_AT_END = /\\u[dD][89abAB][0-9a-fA-F]{2}$/

export class StreamedInput {
  #raw = ''
  /** Where the string's text begins in the arguments; null until the opening is read. */
  #start: number | null = null
  /** How much of the text has been decoded and handed on. */
  #read = 0
  /** The string ended, or the arguments turned out not to be of the shape: nothing more streams. */
  #over = false

  /** Takes the next piece of the arguments; answers the input's text it makes readable. */
  push(piece: string): string {
    this.#raw += piece
    if (this.#over) return ''
    if (this.#start === null) {
      const opening = OPENING.exec(this.#raw)
      if (opening === null) {
        if (this.#raw.length > OPENING_MAX) this.#over = true
        return ''
      }
      this.#start = opening[0].length
    }
    const from = this.#start + this.#read
    let end = from
    for (;;) {
      const c = this.#raw[end]
      if (c === undefined) break
      if (c === '"') {
        this.#over = true
        break
      }
      const step = c !== '\\' ? 1 : this.#raw[end + 1] === 'u' ? 6 : 2
      if (end + step > this.#raw.length) break
      end += step
    }
    let segment = this.#raw.slice(from, end)
    if (!this.#over && HIGH_SURROGATE_AT_END.test(segment)) segment = segment.slice(0, -6)
    try {
      const text = JSON.parse(`"${segment}"`) as string
      this.#read += segment.length
      return text
    } catch {
      // Not JSON's escapes (a raw control character): read once whole.
      this.#over = true
      return ''
    }
  }
}
