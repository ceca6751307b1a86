/**
 * The guidance-scale embedding that LCM-distilled UNets take as `timestep_cond` instead of running
 * classifier-free guidance (diffusers' LatentConsistencyModelPipeline.get_guidance_scale_embedding,
 * fed w = guidance_scale − 1): sinusoidal features of 1000·w, sin half then cos half, in float32.
 */
export function guidanceScaleEmbedding(guidanceScale: number, size: number, batch: number): Float32Array {
  const w = Math.fround(Math.fround(guidanceScale - 1) * 1000);
  const half = Math.floor(size / 2);
  const logStep = Math.fround(Math.log(10000) / (half - 1));
  const row = new Float32Array(size); // an odd size keeps a zero in the last place, as diffusers pads
  for (let i = 0; i < half; i++) {
    const frequency = Math.fround(Math.exp(Math.fround(-logStep * i)));
    const angle = Math.fround(w * frequency);
    row[i] = Math.sin(angle);
    row[half + i] = Math.cos(angle);
  }
  const embedding = new Float32Array(size * batch);
  for (let b = 0; b < batch; b++) embedding.set(row, b * size);
  return embedding;
}
