/**
 * diffusers' three timestep spacings (Table 2 of arXiv:2305.08891), computed with numpy's float64
 * arithmetic as diffusers does. Results are descending (first = noisiest). "linspace" values are left
 * unrounded: DDIM-like schedulers round them to integers, Euler-like ones keep them as float32.
 */
import type { TimestepSpacing } from "./scheduler.ts";
import { numpyArange, numpyLinspace, roundHalfEven } from "./numpy-numerics.ts";

export interface SpacingRequest {
  readonly spacing: TimestepSpacing;
  /** Number of inference steps. */
  readonly count: number;
  readonly trainSteps: number;
  /** Added to "leading" timesteps. */
  readonly stepsOffset: number;
}

/** The spacing of DDIM, PNDM, Euler and Euler ancestral. */
export function spacedTimesteps({ spacing, count, trainSteps, stepsOffset }: SpacingRequest): number[] {
  switch (spacing) {
    case "linspace":
      return linspaceTimesteps(trainSteps - 1, count);
    case "leading":
      return leadingTimesteps(Math.floor(trainSteps / count), count, stepsOffset);
    case "trailing":
      return trailingTimesteps(trainSteps, trainSteps / count);
  }
}

/**
 * DPM-Solver's variant: "linspace" and "leading" lay out `count + 1` points below `lastTimestep` (the
 * training length, or less when `lambda_min_clipped` cuts the schedule) and drop the final one; all
 * values are integers.
 */
export function solverSpacedTimesteps(request: SpacingRequest & { readonly lastTimestep: number }): number[] {
  const { spacing, count, trainSteps, stepsOffset, lastTimestep } = request;
  switch (spacing) {
    case "linspace":
      return linspaceTimesteps(lastTimestep - 1, count + 1).map(roundHalfEven).slice(0, -1);
    case "leading":
      return leadingTimesteps(Math.floor(lastTimestep / (count + 1)), count + 1, 0)
        .slice(0, -1)
        .map((t) => t + stepsOffset);
    case "trailing":
      return trailingTimesteps(lastTimestep, trainSteps / count);
  }
}

/** `numpy.linspace(0, end, count)`, descending. */
function linspaceTimesteps(end: number, count: number): number[] {
  return numpyLinspace(0, end, count).reverse();
}

/** `numpy.arange(count) * ratio`, descending, plus the offset. */
function leadingTimesteps(ratio: number, count: number, offset: number): number[] {
  return Array.from({ length: count }, (_, i) => (count - 1 - i) * ratio + offset);
}

/** `numpy.round(numpy.arange(start, 0, -ratio)) - 1` (one value more than intended for some counts, as in diffusers). */
function trailingTimesteps(start: number, ratio: number): number[] {
  return numpyArange(start, 0, -ratio).map((t) => roundHalfEven(t) - 1);
}
