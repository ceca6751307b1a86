/**
 * A cheap look at the current latents without running the VAE: each latent pixel becomes one RGB
 * pixel through a fixed 4×3 linear map, the approximation other SD tools use for live previews
 * (ComfyUI's SD 1.x `latent_rgb_factors`). Encoded as a small WebP data URL, at most
 * PREVIEW_MAX_SIDE pixels on its longer side so that it fits a PostgreSQL NOTIFY payload (under
 * 8000 bytes) with room to spare: SD 1.x at 512×512 has 64×64 latents, shown 1:1.
 */
import sharp from "sharp";

export const PREVIEW_MAX_SIDE = 64;

/** Rows: latent channels; columns: R, G, B. Fitted for SD 1.x/2.x's 4-channel VAE latent space. */
const LATENT_RGB_FACTORS = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
] as const;

/**
 * @param latents [batch, 4, h, w] (unscaled, as the scheduler holds them)
 * @param index which batch item to show
 */
export async function latentPreview(latents: Float32Array, dims: readonly number[], index: number): Promise<string> {
  const [, channels, height, width] = dims as [number, number, number, number];
  if (channels !== LATENT_RGB_FACTORS.length) throw new Error(`Previews need ${LATENT_RGB_FACTORS.length} latent channels, got ${channels}`);
  const plane = height * width;
  const rgb = new Uint8Array(plane * 3);
  const base = index * channels * plane;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let value = 0;
      for (let k = 0; k < channels; k++) value += latents[base + k * plane + p]! * LATENT_RGB_FACTORS[k]![c]!;
      rgb[p * 3 + c] = Math.max(0, Math.min(255, Math.round((value + 1) * 127.5)));
    }
  }
  const webp = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize({ width: PREVIEW_MAX_SIDE, height: PREVIEW_MAX_SIDE, fit: "inside", withoutEnlargement: true })
    .webp({ quality: 60 })
    .toBuffer();
  return `data:image/webp;base64,${webp.toString("base64")}`;
}
