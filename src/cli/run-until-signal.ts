/**
 * Runs a long-lived service until SIGINT or SIGTERM, then stops it cleanly: the one place Atelier
 * handles termination signals. A second signal while stopping exits at once.
 */
import type { Logger } from "../log.ts";

export interface Stoppable {
  stop(): Promise<void>;
}

export async function runUntilSignal(service: Stoppable, log: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
      process.once("SIGINT", forceExit).once("SIGTERM", forceExit);
      log.info(`${signal} received, shutting down`);
      service.stop().then(resolve, (error: unknown) => {
        log.error("shutdown failed", { error });
        process.exitCode = 1;
        resolve();
      });
    };
    process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  });
  log.info("stopped");
}

function forceExit(signal: NodeJS.Signals): never {
  process.stderr.write(`${signal} received again, exiting without a clean shutdown\n`);
  process.exit(130);
}
