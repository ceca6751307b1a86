/**
 * The 32-bit Mersenne Twister (MT19937) exactly as PyTorch's CPU generator runs it
 * (ATen `at::mt19937` in `ATen/core/MT19937RNGEngine.h`, driven by `CPUGeneratorImpl`).
 *
 * PyTorch seeds it with Matsumoto–Nishimura's `init_genrand` from the LOW 32 bits of the 64-bit
 * seed, and its output stream is the reference MT19937 stream (same as `std::mt19937`).
 * `CPUGeneratorImpl::random()` is one output; `random64()` is two outputs, the first one as the
 * high word. The uniform samplers below are ATen's `uniform_real_distribution` on [0, 1).
 */

const STATE_SIZE = 624;
const SHIFT_SIZE = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_POW_32 = 4294967296;
const TWO_POW_MINUS_53 = 2 ** -53;
const DOUBLE_HIGH_WORD_MASK = 0x1fffff; // 53 - 32 = 21 bits of the high word

export class Mt19937 {
  private readonly state = new Uint32Array(STATE_SIZE);
  /** Index of the next state word to temper; STATE_SIZE means "regenerate first". */
  private index = STATE_SIZE;

  /** @param seed32 the seed's low 32 bits, an integer in [0, 2^32) */
  constructor(seed32: number) {
    const state = this.state;
    state[0] = seed32;
    for (let j = 1; j < STATE_SIZE; j++) {
      const previous = state[j - 1]!;
      state[j] = Math.imul(1812433253, previous ^ (previous >>> 30)) + j;
    }
  }

  /** One 32-bit output, as `CPUGeneratorImpl::random()`. */
  nextUint32(): number {
    if (this.index >= STATE_SIZE) this.regenerate();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * A uniform sample in [0, 1) with `digits` bits of precision, as ATen forms it for float
   * (digits = 24) and half (digits = 11): the low `digits` bits of one `random()` output
   * divided by 2^digits. Exactly representable in the target type.
   */
  nextUniform32(digits: number): number {
    const range = 1 << digits; // digits <= 24: plain int32 math, no Math.pow in the hot loop
    return (this.nextUint32() & (range - 1)) / range;
  }

  /**
   * A uniform double in [0, 1), as ATen forms it: the low 53 bits of `random64()`
   * (first output = high word) divided by 2^53.
   */
  nextUniformDouble(): number {
    const high = this.nextUint32() & DOUBLE_HIGH_WORD_MASK;
    const low = this.nextUint32();
    return (high * TWO_POW_32 + low) * TWO_POW_MINUS_53;
  }

  /** The twist: refills all 624 words at once, as `next_state()` does. */
  private regenerate(): void {
    const state = this.state;
    for (let k = 0; k < STATE_SIZE; k++) {
      const next = k + 1 < STATE_SIZE ? k + 1 : 0;
      const shifted = k + SHIFT_SIZE < STATE_SIZE ? k + SHIFT_SIZE : k + SHIFT_SIZE - STATE_SIZE;
      const y = (state[k]! & UPPER_MASK) | (state[next]! & LOWER_MASK);
      state[k] = state[shifted]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }
}
