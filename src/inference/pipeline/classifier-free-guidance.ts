/**
 * Classifier-free guidance. The UNet batch is [unconditional × n, conditional × n] (diffusers'
 * order); the guided prediction is uncond + scale · (cond − uncond), computed in float32 as torch does.
 */

/** [latents, latents]: the same latents for the unconditional and the conditional half. */
export function duplicateForGuidance(latents: Float32Array): Float32Array {
  const doubled = new Float32Array(latents.length * 2);
  doubled.set(latents, 0);
  doubled.set(latents, latents.length);
  return doubled;
}

export function applyGuidance(prediction: Float32Array, guidanceScale: number): Float32Array {
  const half = prediction.length / 2;
  const guided = new Float32Array(half);
  const scale = Math.fround(guidanceScale);
  for (let i = 0; i < half; i++) {
    const uncond = prediction[i]!;
    const difference = Math.fround(prediction[half + i]! - uncond);
    guided[i] = uncond + Math.fround(scale * difference);
  }
  return guided;
}
