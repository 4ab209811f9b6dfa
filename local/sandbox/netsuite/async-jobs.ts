/**
 * Asynchronous requests of the NetSuite sandbox ("REST Web Services Request Processing"): a
 * record request sent with `Prefer: respond-async` becomes a job (202, `Location:
 * /services/rest/async/v1/job/<id>`, `Preference-Applied: respond-async`); a second request
 * with the same `X-NetSuite-Idempotency-Key` is answered 400 `IDEMPOTENCY_ERROR` with the
 * first job's `Location` and runs nothing. Jobs run at once unless the queue is held
 * (`POST /__sandbox/async-jobs {"hold": true}`), which stands in for NetSuite's processing
 * queue being behind. The job, its one task and the task's result (the answer the request
 * got, replayed) are read under `/services/rest/async/v1/job/…`.
 */
import { netsuiteError, nonexistentId, type SandboxAnswer } from './responses.ts';
import type { NetsuiteStore, StoredJob } from './store.ts';

/** A record request kept for later. */
export interface AsyncRequest {
  readonly method: string;
  readonly path: string;
  /** The query string, without `?`. */
  readonly search: string;
  readonly body: unknown;
  /** Scheme, host and port the request came to, for the links of its answer. */
  readonly origin: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The job queue of the sandbox account. */
export class AsyncJobs {
  /** While true, submitted jobs stay pending. */
  held = false;
  private readonly store: NetsuiteStore;
  private readonly execute: (request: AsyncRequest) => SandboxAnswer;
  private readonly now: () => number;

  /** @param execute runs a record request (inside the caller's transaction) and gives its answer */
  constructor(store: NetsuiteStore, execute: (request: AsyncRequest) => SandboxAnswer, now: () => number) {
    this.store = store;
    this.execute = execute;
    this.now = now;
  }

  /** Accepts a request as a job (running it unless held), or answers the key's earlier job. */
  submit(request: AsyncRequest, idempotencyKey: string | undefined): SandboxAnswer {
    if (idempotencyKey !== undefined && !UUID.test(idempotencyKey)) {
      return netsuiteError(400, 'INVALID_HEADER', 'The X-NetSuite-Idempotency-Key header must be a UUID as defined by RFC 4122.');
    }
    const earlier = idempotencyKey === undefined ? undefined : this.store.jobByKey(idempotencyKey);
    if (earlier !== undefined) {
      return {
        status: 400,
        headers: { location: jobPath(earlier.id), 'preference-applied': 'respond-async' },
        body: {
          type: 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.10',
          title: 'Conflict',
          status: 400,
          'o:errorDetails': [
            {
              detail: 'A request with the same idempotency key is already submitted. See the "Location" header for a link to the previously submitted job',
              'o:errorCode': 'IDEMPOTENCY_ERROR',
            },
          ],
        },
      };
    }
    const id = this.store.addJob(idempotencyKey, request, this.now());
    if (!this.held) this.run(id);
    return { status: 202, headers: { location: jobPath(id), 'preference-applied': 'respond-async' } };
  }

  /** Runs every pending job, oldest first (after the queue is released, or on start). */
  runPending(): void {
    for (const job of this.store.jobs()) if (job.state === 'pending') this.run(job.id);
  }

  /** `GET /services/rest/async/v1/job/{id}[/task[/{task}[/result]]]`. */
  read(rest: readonly string[], origin: string): SandboxAnswer {
    const job = /^\d+$/.test(rest[0] ?? '') ? this.store.job(Number(rest[0])) : undefined;
    if (job === undefined) return nonexistentId();
    const base = `${origin}${jobPath(job.id)}`;
    const completed = job.state !== 'pending';
    if (rest.length === 1) {
      return { status: 200, body: { links: [{ rel: 'self', href: base }], completed, id: String(job.id), progress: job.state, task: { links: [{ rel: 'self', href: `${base}/task` }] } } };
    }
    if (rest[1] !== 'task') return nonexistentId();
    if (rest.length === 2) {
      return {
        status: 200,
        body: { links: [{ rel: 'self', href: `${base}/task` }], count: 1, hasMore: false, items: [{ links: [{ rel: 'self', href: `${base}/task/${job.id}` }] }], offset: 0, totalResults: 1 },
      };
    }
    if (rest[2] !== String(job.id)) return nonexistentId();
    if (rest.length === 3) return { status: 200, body: taskBody(job, `${base}/task/${job.id}`) };
    if (rest.length === 4 && rest[3] === 'result' && completed) return job.result as SandboxAnswer;
    return nonexistentId();
  }

  /** Jobs for the test harness (`GET /__sandbox/async-jobs`). */
  list(): { id: number; idempotencyKey: string | undefined; method: string; path: string; state: string }[] {
    return this.store.jobs().map((job) => {
      const request = job.request as AsyncRequest;
      return { id: job.id, idempotencyKey: job.idempotencyKey, method: request.method, path: request.path, state: job.state };
    });
  }

  private run(id: number): void {
    const job = this.store.job(id)!;
    const answer = this.execute(job.request as AsyncRequest);
    this.store.finishJob(id, answer.status < 400 ? 'succeeded' : 'failed', answer, this.now());
  }
}

function jobPath(id: number): string {
  return `/services/rest/async/v1/job/${id}`;
}

function taskBody(job: StoredJob, href: string): Record<string, unknown> {
  const iso = (epochMs: number): string => `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
  return {
    links: [
      { rel: 'related', href: `${href}/result` },
      { rel: 'self', href },
    ],
    completed: job.state !== 'pending',
    ...(job.finishedAt === undefined ? {} : { endTime: iso(job.finishedAt) }),
    id: String(job.id),
    progress: job.state,
    startTime: iso(job.submittedAt),
  };
}
