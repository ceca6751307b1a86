/**
 * A prompt's token ids for the CLIP text model, cut to the model's length the way CLIP needs it:
 * `<|startoftext|>`, the first tokens, then `<|endoftext|>` (the text tower pools its output at
 * that token). transformers.js truncates after adding the special tokens and so drops the end
 * token of a long prompt; this keeps it, as Python's tokenizers and openai/CLIP do.
 */

/**
 * `ids` as the tokenizer returns them with special tokens (ending in `endId`), shortened to at
 * most `maxLength` by dropping the tokens just before the end token.
 */
export function truncateKeepingEnd(ids: readonly number[], maxLength: number, endId: number): number[] {
  if (ids.at(-1) !== endId) {
    throw new Error(`the tokenizer did not end the prompt with the end-of-text token ${endId} (got ${ids.at(-1)}); check tokenizer.json's post_processor`);
  }
  if (ids.length <= maxLength) return [...ids];
  return [...ids.slice(0, maxLength - 1), endId];
}
