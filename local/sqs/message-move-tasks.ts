/**
 * Dead-letter queue redrive as SQS's StartMessageMoveTask, ListMessageMoveTasks and
 * CancelMessageMoveTask do it: a task moves the messages a dead-letter queue holds when it
 * starts, oldest first, back to the queue each came from (DeadLetterQueueSourceArn) or to
 * a destination of the same type, at MaxNumberOfMessagesPerSecond when given. Moved
 * messages are new messages there (new id, send time and retention period; receive count
 * 0), as the SQS Developer Guide says of redrive. Each step moves its messages and saves
 * the task's progress in one transaction; RUNNING tasks resume when the service starts.
 * Messages in flight when a step reaches them stay in the dead-letter queue, as do those
 * with no source queue to return to.
 */
import { randomUUID } from 'node:crypto';
import { invalidParameterValue, invalidValueOf, resourceNotFound, unsupportedOperation } from './errors.ts';
import type { MessageRecord, MessageStore, MoveTaskRecord } from './message-store.ts';
import type { RequestOf } from './requests.ts';

/** A queue as a move task needs to know it. */
export interface MoveTaskQueue {
  readonly id: number;
  readonly arn: string;
  readonly fifo: boolean;
}

/** What the task runner needs from the service. */
export interface MessageMoveTasksOptions {
  readonly store: MessageStore;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** The queue of an ARN of this region and account, if there is one. */
  readonly queueByArn: (arn: string) => MoveTaskQueue | undefined;
  /** Whether some queue's RedrivePolicy names `arn` as its dead-letter queue. */
  readonly isDeadLetterQueue: (arn: string) => boolean;
  /** Tells the long polls of a queue that messages arrived there. */
  readonly wake: (queueId: number) => void;
}

type Json = Record<string, unknown>;

/** Messages a task without a rate moves per step, and the pause between its steps. */
const UNLIMITED_BATCH = 100;
const STEP_MS = 20;

/** The message move tasks of one LocalSqs: its three operations and the timers that run them. */
export class MessageMoveTasks {
  readonly #options: MessageMoveTasksOptions;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(options: MessageMoveTasksOptions) {
    this.#options = options;
  }

  /** Runs again every task that was RUNNING when the service last stopped. */
  resume(): void {
    for (const task of this.#options.store.runningMoveTasks()) this.#schedule(task.handle, 0);
  }

  /** Stops running tasks; they stay RUNNING in the store and resume with the next service. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** StartMessageMoveTask. */
  start(input: RequestOf<'StartMessageMoveTask'>): Json {
    const { store, queueByArn } = this.#options;
    const source = queueByArn(input.SourceArn);
    if (source === undefined) throw resourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.");
    if (!this.#options.isDeadLetterQueue(source.arn)) throw invalidParameterValue('Source queue must be configured as a Dead Letter Queue.');
    let destination: MoveTaskQueue | undefined;
    if (input.DestinationArn !== undefined) {
      destination = queueByArn(input.DestinationArn);
      if (destination === undefined) throw resourceNotFound("The resource that you specified for the DestinationArn parameter doesn't exist.");
      if (destination.id === source.id) throw invalidParameterValue('Source and destination queue must be different.');
      if (destination.fifo !== source.fifo) throw invalidParameterValue('The source and destination queues must be of the same type.');
    }
    const rate = input.MaxNumberOfMessagesPerSecond;
    if (rate !== undefined && (rate < 1 || rate > 500)) {
      throw invalidValueOf('MaxNumberOfMessagesPerSecond', rate, 'MaxNumberOfMessagesPerSecond must be between 1 and 500.');
    }
    if (store.moveTasksOf(source.arn, 10).some((task) => task.status === 'RUNNING')) {
      throw unsupportedOperation('There is already a task running. Only one active task is allowed for a source queue arn at a given time.');
    }
    const task: MoveTaskRecord = {
      handle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn: source.arn }), 'utf8').toString('base64'),
      sourceArn: source.arn,
      destinationArn: destination?.arn,
      maxPerSecond: rate,
      status: 'RUNNING',
      startedAt: this.#options.now(),
      toMove: store.messageCount(source.id),
      moved: 0,
      failureReason: undefined,
      lastSeq: store.lastSeq(source.id),
      cursor: 0,
    };
    store.transaction(() => store.insertMoveTask(task));
    this.#schedule(task.handle, 0);
    return { TaskHandle: task.handle };
  }

  /** ListMessageMoveTasks: the most recent tasks of a source queue, newest first. */
  list(input: RequestOf<'ListMessageMoveTasks'>): Json {
    const source = this.#options.queueByArn(input.SourceArn);
    if (source === undefined) throw resourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.");
    const limit = input.MaxResults ?? 1;
    if (limit < 1 || limit > 10) throw invalidValueOf('MaxResults', limit, 'MaxResults must be an integer between 1 and 10.');
    return {
      Results: this.#options.store.moveTasksOf(source.arn, limit).map((task) => ({
        // Only a RUNNING task shows its handle (it is what CancelMessageMoveTask takes).
        ...(task.status === 'RUNNING' ? { TaskHandle: task.handle } : {}),
        Status: task.status,
        SourceArn: task.sourceArn,
        ...(task.destinationArn === undefined ? {} : { DestinationArn: task.destinationArn }),
        ...(task.maxPerSecond === undefined ? {} : { MaxNumberOfMessagesPerSecond: task.maxPerSecond }),
        ApproximateNumberOfMessagesMoved: task.moved,
        ApproximateNumberOfMessagesToMove: task.toMove,
        ...(task.failureReason === undefined ? {} : { FailureReason: task.failureReason }),
        StartedTimestamp: task.startedAt,
      })),
    };
  }

  /** CancelMessageMoveTask: stops a RUNNING task; what it moved stays moved. */
  cancel(input: RequestOf<'CancelMessageMoveTask'>): Json {
    const { store } = this.#options;
    const task = store.moveTask(input.TaskHandle);
    if (task === undefined) throw resourceNotFound("The resource that you specified for the TaskHandle parameter doesn't exist.");
    if (task.status !== 'RUNNING') throw unsupportedOperation(`Only a task in RUNNING status can be cancelled; this task is ${task.status}.`);
    store.transaction(() => store.updateMoveTask(task.handle, { ...task, status: 'CANCELLED' }));
    clearTimeout(this.#timers.get(task.handle));
    this.#timers.delete(task.handle);
    return { ApproximateNumberOfMessagesMoved: task.moved };
  }

  #schedule(handle: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(handle);
      if (!this.#closed) this.#step(handle);
    }, delayMs);
    timer.unref();
    this.#timers.set(handle, timer);
  }

  /**
   * One step of a task, in one transaction: the next messages of the source (among those
   * there when it started) become new messages of their source queue or of the
   * destination, and the task's progress is saved with them.
   */
  #step(handle: string): void {
    const { store, queueByArn } = this.#options;
    const task = store.moveTask(handle);
    if (task === undefined || task.status !== 'RUNNING') return;
    const source = queueByArn(task.sourceArn);
    const destination = task.destinationArn === undefined ? undefined : queueByArn(task.destinationArn);
    if (source === undefined || (task.destinationArn !== undefined && destination === undefined)) {
      const failureReason = source === undefined ? 'The source queue no longer exists.' : 'The destination queue no longer exists.';
      store.transaction(() => store.updateMoveTask(handle, { ...task, status: 'FAILED', failureReason }));
      return;
    }
    const stepMs = task.maxPerSecond === undefined ? STEP_MS : Math.max(STEP_MS, Math.ceil(1000 / task.maxPerSecond));
    const perStep = task.maxPerSecond === undefined ? UNLIMITED_BATCH : Math.max(1, Math.floor((task.maxPerSecond * stepMs) / 1000));
    const now = this.#options.now();
    const woken = new Set<number>();
    const finished = store.transaction(() => {
      const messages = store.messagesBetween(source.id, task.cursor, task.lastSeq, perStep);
      let { cursor, moved } = task;
      for (const message of messages) {
        cursor = message.seq;
        if (message.visibleAt > now) continue; // in flight: left where it is
        const target = destination ?? (message.deadLetterSourceArn === undefined ? undefined : queueByArn(message.deadLetterSourceArn));
        if (target === undefined || target.fifo !== source.fifo) continue; // no source queue to return to
        this.#redrive(message, target, now);
        woken.add(target.id);
        moved += 1;
      }
      const done = messages.length < perStep;
      store.updateMoveTask(handle, { status: done ? 'COMPLETED' : 'RUNNING', moved, cursor, failureReason: undefined });
      return done;
    });
    for (const queueId of woken) this.#options.wake(queueId);
    if (!finished) this.#schedule(handle, stepMs);
  }

  /** `message` becomes a new message of `target` (inside the step's transaction). */
  #redrive(message: MessageRecord, target: MoveTaskQueue, now: number): void {
    const { store } = this.#options;
    const { seq, ...fields } = message;
    const messageId = randomUUID();
    store.insertMessage({
      ...fields,
      queueId: target.id,
      messageId,
      sentAt: now,
      enqueuedAt: now,
      arrivedAt: now,
      visibleAt: now,
      receiveCount: 0,
      firstReceivedAt: undefined,
      receivedAt: undefined,
      receipt: undefined,
      deduplicationId: target.fifo ? messageId : undefined,
      sequenceNumber: target.fifo ? store.nextSequenceNumber(target.id) : undefined,
      deadLetterSourceArn: undefined,
    });
    store.deleteMessage(seq);
  }
}
