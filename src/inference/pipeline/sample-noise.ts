/**
 * Noise for a batch of samples, drawn the way diffusers draws it with one generator per sample:
 * sample i owns a PyTorch-compatible CPU generator seeded `seed + i`; its initial latents are one
 * [1, C, h, w] draw, and every later draw (ancestral and LCM steps) takes the next [1, C, h, w] from
 * the same generator. So a sample's image does not depend on which batch it was denoised in.
 */
import { TorchGenerator } from "../random/torch-generator.ts";

export class SampleNoise {
  private readonly generators: TorchGenerator[];

  /** @param seeds one per sample in the batch, in batch order. @param valuesPerSample C·h·w. */
  constructor(
    seeds: readonly number[],
    private readonly valuesPerSample: number,
  ) {
    this.generators = seeds.map((seed) => new TorchGenerator(seed));
  }

  /** The next standard-normal draw for the whole batch: each sample's draw, concatenated. */
  readonly draw = (): Float32Array => {
    const batch = new Float32Array(this.generators.length * this.valuesPerSample);
    this.generators.forEach((generator, i) => batch.set(generator.randn(this.valuesPerSample), i * this.valuesPerSample));
    return batch;
  };
}
