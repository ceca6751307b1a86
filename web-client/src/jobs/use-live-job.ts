/**
 * A job as it happens: read over HTTP (which needs no API key on an open server, so anyone can
 * look at a finished job), then, until it ends, followed over graphql-ws. When the subscription
 * completes or fails before the job has ended (the server restarted, or the network dropped), it
 * subscribes again after a pause; the first event of every subscription is the job's current
 * state, so nothing that matters is missed in between. While the job waits in the queue it is
 * read again every few seconds, for its place in the queue.
 */
import { useCallback, useEffect, useState } from "react";
import { ApiError, request } from "../api/graphql-client.ts";
import { subscribe } from "../api/ws-client.ts";
import { JobDocument, JobEventsDocument } from "../generated/graphql.ts";
import { applyEvent, fromJob, isFinal, type LiveJob } from "./live-job.ts";

const RESUBSCRIBE_MS = 1000;
const QUEUE_POLL_MS = 3000;

export interface LiveJobState {
  live: LiveJob | undefined;
  /** "missing": no job has this id. */
  failure: ApiError | "missing" | undefined;
  /** Reads the job again (after deleting an image, whose siblings are ranked again). */
  reload(): Promise<void>;
  /** Changes the job as shown, at once (an image just deleted). */
  update(change: (live: LiveJob) => LiveJob): void;
}

export function useLiveJob(id: string): LiveJobState {
  const [live, setLive] = useState<LiveJob>();
  const [failure, setFailure] = useState<LiveJobState["failure"]>();

  const reload = useCallback(async () => {
    try {
      const { job } = await request(JobDocument, { id });
      if (!job) return setFailure("missing");
      setFailure(undefined);
      setLive((previous) => fromJob(job, previous?.job.id === id ? previous : undefined));
    } catch (error) {
      setFailure(error instanceof ApiError ? error : new ApiError([{ message: String(error) }]));
    }
  }, [id]);

  useEffect(() => {
    setLive(undefined);
    setFailure(undefined);
    void reload();
  }, [reload]);

  const status = live?.job.id === id ? live.job.status : undefined;
  const following = status !== undefined && !isFinal(status);

  useEffect(() => {
    if (!following) return;
    let stopped = false;
    let ended = false;
    let unsubscribe = () => {};
    let retry: ReturnType<typeof setTimeout> | undefined;
    const follow = () => {
      unsubscribe();
      unsubscribe = subscribe(JobEventsDocument, { jobId: id }, {
        next: ({ jobEvents }) => {
          if (jobEvents.__typename === "JobStatusChanged" && isFinal(jobEvents.job.status)) ended = true;
          setLive((previous) => (previous ? applyEvent(previous, jobEvents) : previous));
        },
        error: (error) => {
          // The job was deleted meanwhile; anything else may pass (a server shutting down).
          if (JSON.stringify(error).includes("NOT_FOUND")) {
            ended = true;
            setFailure("missing");
          }
          again();
        },
        complete: again,
      });
    };
    // An error and then a `complete` ask twice: one pause, one new subscription.
    const again = () => {
      clearTimeout(retry);
      if (!stopped && !ended) retry = setTimeout(follow, RESUBSCRIBE_MS);
    };
    follow();
    return () => {
      stopped = true;
      clearTimeout(retry);
      unsubscribe();
    };
  }, [id, following]);

  useEffect(() => {
    if (status !== "QUEUED") return;
    const timer = setInterval(async () => {
      const { job } = await request(JobDocument, { id }).catch(() => ({ job: undefined }));
      // The subscription is the authority on status: an answer overtaken by its events is dropped.
      if (job) setLive((previous) => (previous?.job.status === "QUEUED" ? fromJob(job, previous) : previous));
    }, QUEUE_POLL_MS);
    return () => clearInterval(timer);
  }, [id, status]);

  return { live: live?.job.id === id ? live : undefined, failure, reload, update: (change) => setLive((previous) => previous && change(previous)) };
}
