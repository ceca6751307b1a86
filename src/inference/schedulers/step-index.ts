/**
 * diffusers' step counter for schedulers that walk a schedule by index rather than by timestep value
 * (Euler, Euler ancestral, DPM-Solver, LCM): the first call finds the index of the timestep it is given,
 * each step then advances by one (so repeated timesteps are walked in order).
 */
export class StepCounter {
  #index: number | undefined;

  /** `whenMissing`: what an unknown first timestep means: an error (Euler, LCM) or the last step (DPM-Solver). */
  constructor(
    private readonly owner: string,
    private readonly timesteps: readonly number[],
    private readonly whenMissing: "error" | "last",
  ) {}

  /** The current step's index, found from `timestep` on the first call of a run. */
  indexFor(timestep: number): number {
    this.#index ??= this.lookUp(timestep);
    return this.#index;
  }

  advance(): void {
    if (this.#index === undefined) throw new Error(`${this.owner}: advance() before the step index was found`);
    this.#index += 1;
  }

  /** A repeated timestep resolves to its second occurrence, so a run started mid-schedule skips no sigma. */
  private lookUp(timestep: number): number {
    const first = this.timesteps.indexOf(timestep);
    if (first === -1) {
      if (this.whenMissing === "last") return this.timesteps.length - 1;
      throw new Error(`${this.owner}: timestep ${timestep} is not in this run's timesteps; pass one of scheduler.timesteps`);
    }
    const second = this.timesteps.indexOf(timestep, first + 1);
    return second === -1 ? first : second;
  }
}
