import { useEffect, useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { ApiError, request } from "../api/graphql-client.ts";
import { useQuery } from "../api/use-query.ts";
import { Field } from "../components/Field.tsx";
import { RecentJobs } from "../components/RecentJobs.tsx";
import { GenerateDocument, ModelsDocument, type Scheduler } from "../generated/graphql.ts";
import { formatSize, SCHEDULER_LABELS } from "../format.ts";
import { formInput, randomSeed, type GenerateForm } from "../jobs/generate-input.ts";
import { defaultPreset, sizePresets, type ModelInfo } from "../jobs/size-presets.ts";
import { navigate, paths, useLocation } from "../router.ts";
import { useTitle } from "../use-title.ts";

const CUSTOM = "custom";
const isMac = /Mac|iPhone|iPad/.test(navigator.platform);

/**
 * The form for a model: its defaults in the fields it sets. `keepTyped` keeps what the person
 * already typed (the models arrived after they started), else a newly chosen model resets them.
 */
function withModel(form: GenerateForm, model: ModelInfo, { keepTyped }: { keepTyped: boolean }): GenerateForm {
  const size = defaultPreset(model);
  const choose = <T extends string>(typed: T | "", fallback: T): T | "" => (keepTyped && typed !== "" ? typed : fallback);
  return {
    ...form,
    model: model.name,
    scheduler: choose(form.scheduler, model.defaultScheduler),
    steps: choose(form.steps, String(model.defaultSteps)),
    guidanceScale: choose(form.guidanceScale, String(model.defaultGuidanceScale)),
    width: choose(form.width, String(size.width)),
    height: choose(form.height, String(size.height)),
  };
}

const EMPTY: GenerateForm = {
  prompt: "",
  negativePrompt: "",
  model: "",
  scheduler: "",
  // The API's own default (GenerateInput.samples); the model's defaults fill the rest once known.
  samples: "4",
  steps: "",
  guidanceScale: "",
  width: "",
  height: "",
  seed: "",
  randomSeed: true,
};

/** The start page: what to generate (defaults from the `models` query), and the latest jobs. */
export function CreateView() {
  useTitle("Create");
  const { search } = useLocation();
  const models = useQuery(ModelsDocument, {});
  const [form, setForm] = useState<GenerateForm>({ ...EMPTY, prompt: search.get("prompt") ?? "" });
  const [sizeChoice, setSizeChoice] = useState<string>("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const [submitting, setSubmitting] = useState(false);
  const ids = useId();

  const modelList = models.data?.models ?? [];
  const model = modelList.find((candidate) => candidate.name === form.model);
  const presets = model ? sizePresets(model) : [];

  // Once the models are known, the form starts on the default one (the first).
  useEffect(() => {
    const first = models.data?.models[0];
    if (!first) return;
    setForm((current) => (current.model ? current : withModel(current, first, { keepTyped: true })));
    setSizeChoice((current) => current || defaultPreset(first).id);
  }, [models.data]);

  const set = <K extends keyof GenerateForm>(name: K, value: GenerateForm[K]) => setForm((current) => ({ ...current, [name]: value }));

  const chooseModel = (name: string) => {
    const next = modelList.find((candidate) => candidate.name === name);
    if (!next) return;
    setForm((current) => withModel(current, next, { keepTyped: false }));
    setSizeChoice(defaultPreset(next).id);
  };

  const chooseSize = (id: string) => {
    setSizeChoice(id);
    const preset = presets.find((candidate) => candidate.id === id);
    if (preset) setForm((current) => ({ ...current, width: String(preset.width), height: String(preset.height) }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (submitting) return;
    setSubmitting(true);
    setErrors({});
    setFailure(undefined);
    try {
      const { generate } = await request(GenerateDocument, { input: formInput(form) });
      navigate(paths.job(generate.id));
    } catch (error) {
      const fieldErrors = error instanceof ApiError ? error.fieldErrors() : {};
      setErrors(fieldErrors);
      setFailure(Object.keys(fieldErrors).length > 0 ? "Some settings need a change: see the messages beside them." : error instanceof Error ? error.message : String(error));
      setSubmitting(false);
    }
  };

  // Ctrl+Enter (⌘+Enter on a Mac) generates from anywhere in the form, the prompt included.
  const shortcut = (event: KeyboardEvent<HTMLFormElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.currentTarget.requestSubmit();
    }
  };

  const sizeError = errors.width ?? errors.height;
  return (
    <div className="create-layout">
      <section className="panel create-panel" aria-labelledby={`${ids}-title`}>
        <h1 id={`${ids}-title`}>Create</h1>
        <form className="create-form" noValidate onSubmit={(event) => void submit(event)} onKeyDown={shortcut}>
          <Field label="Prompt" error={errors.prompt} className="field-prompt">
            {(control) => (
              <textarea {...control} rows={4} autoFocus placeholder="A lighthouse at dusk, oil on canvas, warm light" value={form.prompt} onChange={(event) => set("prompt", event.target.value)} />
            )}
          </Field>
          <Field label="Negative prompt" hint="What to steer away from (optional)." error={errors.negativePrompt}>
            {(control) => <textarea {...control} rows={2} placeholder="blurry, low contrast" value={form.negativePrompt} onChange={(event) => set("negativePrompt", event.target.value)} />}
          </Field>

          <div className="settings-grid">
            <Field label="Model" error={errors.model} hint={model?.demo ? "A demo model: random weights, so its images are noise." : undefined}>
              {(control) => (
                <select {...control} value={form.model} onChange={(event) => chooseModel(event.target.value)} disabled={modelList.length === 0}>
                  {modelList.length === 0 && <option value="">{models.error ? "Models unavailable" : "Loading…"}</option>}
                  {modelList.map((candidate) => (
                    <option key={candidate.name} value={candidate.name}>
                      {candidate.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Scheduler" error={errors.scheduler}>
              {(control) => (
                <select {...control} value={form.scheduler} onChange={(event) => set("scheduler", event.target.value as Scheduler)}>
                  {form.scheduler === "" && <option value="">Model default</option>}
                  {(Object.entries(SCHEDULER_LABELS) as [Scheduler, string][]).map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
                      {model?.defaultScheduler === value ? " (default)" : ""}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Samples" error={errors.samples}>
              {(control) => <input {...control} type="number" inputMode="numeric" min={1} step={1} value={form.samples} onChange={(event) => set("samples", event.target.value)} />}
            </Field>
            <Field label="Steps" error={errors.steps}>
              {(control) => <input {...control} type="number" inputMode="numeric" min={1} step={1} value={form.steps} onChange={(event) => set("steps", event.target.value)} />}
            </Field>
            <Field label="Guidance scale" error={errors.guidanceScale}>
              {(control) => <input {...control} type="number" inputMode="decimal" min={0} step={0.5} value={form.guidanceScale} onChange={(event) => set("guidanceScale", event.target.value)} />}
            </Field>
            <Field
              label="Seed"
              error={errors.seed}
              aside={
                <label className="toggle">
                  <input
                    type="checkbox"
                    checked={form.randomSeed}
                    onChange={(event) => setForm((current) => ({ ...current, randomSeed: event.target.checked, seed: current.seed || String(randomSeed()) }))}
                  />
                  Random
                </label>
              }
            >
              {(control) => (
                <input
                  {...control}
                  type="number"
                  inputMode="numeric"
                  min={0}
                  step={1}
                  placeholder="random"
                  disabled={form.randomSeed}
                  value={form.randomSeed ? "" : form.seed}
                  onChange={(event) => set("seed", event.target.value)}
                />
              )}
            </Field>
          </div>

          <fieldset className={`size-picker${sizeError ? " field-invalid" : ""}`} aria-describedby={sizeError ? `${ids}-size-error` : undefined}>
            <legend>Size</legend>
            <div className="chips">
              {[...presets, { id: CUSTOM, label: "Custom", width: 0, height: 0 }].map((preset) => (
                <label key={preset.id} className={`chip${sizeChoice === preset.id ? " chip-selected" : ""}`}>
                  <input type="radio" name={`${ids}-size`} value={preset.id} checked={sizeChoice === preset.id} onChange={() => chooseSize(preset.id)} />
                  <span>{preset.label}</span>
                  {preset.id !== CUSTOM && <span className="chip-detail">{formatSize(preset.width, preset.height)}</span>}
                </label>
              ))}
            </div>
            {sizeChoice === CUSTOM && (
              <div className="settings-grid settings-grid-pair">
                <Field label="Width" error={errors.width} hint={model ? `A multiple of ${model.sizeStep}` : undefined}>
                  {(control) => <input {...control} type="number" inputMode="numeric" step={model?.sizeStep ?? 8} value={form.width} onChange={(event) => set("width", event.target.value)} />}
                </Field>
                <Field label="Height" error={errors.height} hint={model ? `A multiple of ${model.sizeStep}` : undefined}>
                  {(control) => <input {...control} type="number" inputMode="numeric" step={model?.sizeStep ?? 8} value={form.height} onChange={(event) => set("height", event.target.value)} />}
                </Field>
              </div>
            )}
            {sizeError && sizeChoice !== CUSTOM && (
              <p className="field-error" id={`${ids}-size-error`}>
                {sizeError}
              </p>
            )}
          </fieldset>

          <div className="submit-row">
            {failure && (
              <p className="notice notice-error" role="alert">
                {failure}
              </p>
            )}
            <span className="muted shortcut-hint">
              <kbd>{isMac ? "⌘" : "Ctrl"}</kbd> + <kbd>Enter</kbd>
            </span>
            <button type="submit" className="button-primary button-large" disabled={submitting}>
              {submitting ? "Submitting…" : "Generate"}
            </button>
          </div>
        </form>
      </section>

      <aside className="panel recent-panel" aria-labelledby={`${ids}-recent`}>
        <h2 id={`${ids}-recent`}>Recent jobs</h2>
        <RecentJobs pageSize={6} more="link" />
      </aside>
    </div>
  );
}
