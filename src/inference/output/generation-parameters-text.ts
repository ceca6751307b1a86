/**
 * The `parameters` text AUTOMATIC1111 embeds in its PNGs, which image viewers, ComfyUI, civitai and
 * A1111's own "PNG Info" read: the prompt, a `Negative prompt:` line when there is one, then
 * `Key: value` pairs joined by ", " (values with ",", ":" or a newline JSON-quoted, as A1111 quotes).
 */
import type { SchedulerName } from "../schedulers/scheduler.ts";
import { VERSION } from "../../version.ts";

/** A1111's names for the samplers these schedulers correspond to (PNDM with skipped PRK steps is PLMS). */
export const A1111_SAMPLER_NAMES: Record<SchedulerName, string> = {
  PNDM: "PLMS",
  DDIM: "DDIM",
  EULER: "Euler",
  EULER_ANCESTRAL: "Euler a",
  DPM_PP_2M: "DPM++ 2M",
  DPM_PP_2M_KARRAS: "DPM++ 2M Karras",
  LCM: "LCM",
};

export interface ImageParameters {
  prompt: string;
  negativePrompt: string;
  steps: number;
  scheduler: SchedulerName;
  guidanceScale: number;
  seed: number;
  width: number;
  height: number;
  model: string;
}

export function formatParameters(parameters: ImageParameters): string {
  const pairs: [string, string | number][] = [
    ["Steps", parameters.steps],
    ["Sampler", A1111_SAMPLER_NAMES[parameters.scheduler]],
    ["CFG scale", parameters.guidanceScale],
    ["Seed", parameters.seed],
    ["Size", `${parameters.width}x${parameters.height}`],
    ["Model", parameters.model],
    // A1111's parse_generation_parameters (modules/infotext_utils.py) assumes GPU noise when RNG is
    // absent; Atelier draws its noise as torch's CPU generator does.
    ["RNG", "CPU"],
    ["Version", `Atelier ${VERSION}`],
  ];
  const negative = parameters.negativePrompt ? `\nNegative prompt: ${parameters.negativePrompt}` : "";
  return `${parameters.prompt}${negative}\n${pairs.map(([key, value]) => `${key}: ${quote(String(value))}`).join(", ")}`;
}

/** Reads text written by `formatParameters` (or by A1111) back into its prompt, negative prompt and pairs. */
export function parseParameters(text: string): { prompt: string; negativePrompt: string; values: Map<string, string> } {
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  const negativeAt = lines.findIndex((line) => line.startsWith("Negative prompt: "));
  const promptLines = negativeAt === -1 ? lines : lines.slice(0, negativeAt);
  const negativeLines = negativeAt === -1 ? [] : lines.slice(negativeAt);
  const values = new Map<string, string>();
  for (const match of last.matchAll(/\s*([\w ]+): ("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g)) {
    values.set(match[1]!.trim(), match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!);
  }
  return {
    prompt: promptLines.join("\n"),
    negativePrompt: negativeLines.join("\n").replace(/^Negative prompt: /, ""),
    values,
  };
}

function quote(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}
