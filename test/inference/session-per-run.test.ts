/**
 * sessionPerRun (the loader's text encoder on the CPU): a real onnxruntime session opened for each
 * run and released after it, even when the run fails, with the outputs of a session kept open; none
 * runs once it is released.
 */
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { createModelSession, type HostTensor, type ModelSession } from "../../src/inference/ort/runtime.ts";
import { sessionPerRun } from "../../src/inference/ort/session-per-run.ts";
import { demoModelFolder, disposeDemoModels } from "../support/demo-model.ts";

afterAll(disposeDemoModels);

it("opens a session for each run and releases it, gives a kept session's outputs, and runs no more once released", async () => {
  const file = path.join(await demoModelFolder(), "text_encoder", "model.onnx");
  const feeds: Record<string, HostTensor> = { input_ids: { data: Int32Array.from({ length: 77 }, (_, i) => (i * 37) % 1000), dims: [1, 77] } };
  const kept = await createModelSession(file);
  const expected = await kept.run(feeds);
  await kept.release();

  let opened = 0;
  const live = new Set<ModelSession>();
  const open = async (): Promise<ModelSession> => {
    opened++;
    const session = await createModelSession(file);
    live.add(session);
    return { ...session, release: () => (live.delete(session), session.release()) };
  };
  const perRun = await sessionPerRun(await open(), open);
  expect(live.size, "the session it was given is released").toBe(0);
  expect([...perRun.inputs.keys()]).toEqual(["input_ids"]);
  for (let run = 0; run < 2; run++) {
    expect(await perRun.run(feeds)).toEqual(expected);
    expect(live.size).toBe(0);
  }
  await expect(perRun.run({ input_ids: { data: new Int32Array(5), dims: [1, 77] } })).rejects.toThrow();
  expect(live.size, "a failed run's session is released too").toBe(0);
  expect(opened).toBe(4);

  await perRun.release();
  await expect(perRun.run(feeds)).rejects.toThrow(/released/);
  expect(opened).toBe(4);
});
