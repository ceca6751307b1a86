/**
 * The text clean-up openai/CLIP runs before splitting a prompt:
 * `whitespace_clean(basic_clean(text)).lower()`, where
 *   basic_clean(text)      = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
 *   whitespace_clean(text) = re.sub(r"\s+", " ", text).strip()
 *
 * ftfy is a large Python library with no JavaScript port. This module applies only its last step,
 * Unicode NFC normalization (so "e" + U+0301 and "é" give the same ids). The gap, measured with
 * ftfy 6.3.1 (test/fixtures/clip-tokenizer.json, `realFtfyTokens`): ftfy also straightens curly
 * quotes (’ → ', so "don’t" splits like "don't"), expands Latin ligatures (ﬁ → fi), narrows
 * full-width characters (Ａ → A), decodes C1 controls as windows-1252 (U+0085 → "…"), removes
 * control characters such as U+001D and U+FEFF, repairs mojibake ("cafÃ©" → "café"), and unescapes
 * HTML entities once more when the text has no "<" (so "&amp;amp;" ends as "&", here as "&amp;").
 * (Hugging Face's CLIPTokenizer, which diffusers runs, never html-unescapes and uses ftfy only
 * where it is installed; its fast tokenizer normalizes with NFC alone.)
 */
import { htmlUnescape } from "./html-unescape.ts";

// Python's regex module's \s is Unicode White_Space; str.strip() also strips U+001C…U+001F.
const WHITESPACE_RUN = /\p{White_Space}+/gu;
const PYTHON_STRIP = /^[\p{White_Space}\x1c-\x1f]+|[\p{White_Space}\x1c-\x1f]+$/gu;

/** The prompt as CLIP's tokenizer sees it before splitting: normalized, unescaped, one space between words, lower case. */
export function cleanPromptText(text: string): string {
  return whitespaceClean(basicClean(text)).toLowerCase();
}

function basicClean(text: string): string {
  const fixed = text.normalize("NFC"); // stands for ftfy.fix_text: see the module comment
  return pythonStrip(htmlUnescape(htmlUnescape(fixed)));
}

function whitespaceClean(text: string): string {
  return pythonStrip(text.replace(WHITESPACE_RUN, " "));
}

function pythonStrip(text: string): string {
  return text.replace(PYTHON_STRIP, "");
}
