/**
 * A ModelSession that holds no onnxruntime session between runs: each run opens one, runs it and
 * releases it. For a component a job runs once, whose weights would otherwise stay resident beside
 * the working memory of the components that run after it (stable-diffusion-model.ts says which).
 */
import type { ModelSession } from "./runtime.ts";

/**
 * Takes over `opened` (already checked by the caller: its inputs and outputs stand for every later
 * session) and releases it; `open` makes each run's session.
 */
export async function sessionPerRun(opened: ModelSession, open: () => Promise<ModelSession>): Promise<ModelSession> {
  const { path, inputs, outputs } = opened;
  await opened.release();
  let released = false;
  return {
    path,
    inputs,
    outputs,
    async run(feeds, outputNames) {
      // As a released onnxruntime session does: a model released from the cache runs no more.
      if (released) throw new Error(`${path}: the session was released`);
      const session = await open();
      try {
        return await session.run(feeds, outputNames);
      } finally {
        await session.release();
      }
    },
    // Nothing is held between runs; a run under way releases its own session.
    release: async () => {
      released = true;
    },
  };
}
