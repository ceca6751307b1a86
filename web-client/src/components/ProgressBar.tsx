/** A progress bar that assistive technology reads (and the browser tests find) by its role and label. */
export function ProgressBar({ percent, label, detail }: { percent: number; label: string; detail?: string | undefined }) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value} aria-valuetext={detail ? `${value}%, ${detail}` : `${value}%`}>
      <div className="progress-fill" style={{ width: `${value}%` }} />
    </div>
  );
}
