import type { JobStatus } from "../generated/graphql.ts";
import { STATUS_LABELS } from "../format.ts";

export function StatusBadge({ status }: { status: JobStatus }) {
  return <span className={`status status-${status.toLowerCase()}`}>{STATUS_LABELS[status]}</span>;
}
