import { RecentJobs } from "../components/RecentJobs.tsx";
import { useTitle } from "../use-title.ts";

/** Every job, newest first, with its status. */
export function JobsView() {
  useTitle("Jobs");
  return (
    <section className="panel jobs-panel">
      <h1>Jobs</h1>
      <RecentJobs pageSize={20} more="button" />
    </section>
  );
}
