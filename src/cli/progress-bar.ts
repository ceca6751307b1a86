/**
 * Progress bars on stderr for long CLI work (model generation, downloads, generation steps). On a
 * terminal the bar redraws in place; otherwise (CI logs, pipes) it prints a line every few seconds.
 */
import cliProgress from "cli-progress";

export interface ProgressBar {
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

export function createProgressBar(label: string, unit = ""): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total}${unit} | {detail}`,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 5000,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, detail = "") {
      if (!started) {
        bar.start(total, done, { detail });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { detail });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
