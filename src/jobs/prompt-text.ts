/**
 * A prompt's identity: prompts that differ only in case or whitespace are the same prompt, so a
 * gallery collects "A cat", "a cat" and " a  cat " together. Unicode is NFC-normalized first so the
 * same text typed on different systems (composed vs decomposed accents) is one prompt too.
 */
export function normalizePromptText(text: string): string {
  return text.normalize("NFC").trim().replace(/\s+/gu, " ").toLowerCase();
}
