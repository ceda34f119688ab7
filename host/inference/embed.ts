/** What an embedding request gives back: one vector per input text, of the model's embedding length. */
export interface EmbedResult {
  vectors: number[][]
  dimension: number
  tokens: number
  total_ms: number
}
