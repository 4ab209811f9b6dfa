import { Duration, Stack } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

/** Props of the hub bus. */
export interface HubBusProps {
  /**
   * How long the archive keeps every event, so a flow can be replayed after a fix.
   * Whole days, at least one.
   * @default Duration.days(30)
   */
  readonly archiveRetention?: Duration;
}

/**
 * Harmony's EventBridge custom bus, where the ingress puts every accepted webhook event
 * and each flow's rule picks its trigger, plus an archive of all events on it. The archive
 * is what `harmony replay` (EventBridge StartReplay) reads from.
 */
export class HubBus extends Construct {
  /** The custom event bus. */
  readonly bus: EventBus;
  /** Archive of every event put on the bus by this account. */
  readonly archive: Archive;

  constructor(scope: Construct, id: string, props: HubBusProps = {}) {
    super(scope, id);
    const retention = props.archiveRetention ?? Duration.days(30);
    const days = retention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`HubBus ${id}: archiveRetention must be a whole number of days, at least 1 (got ${days})`);
    }
    this.bus = new EventBus(this, 'Bus', {
      description: 'Harmony hub: accepted CRM/ERP webhook events; flows subscribe with rules',
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Every event on the Harmony hub bus, kept for replay',
      // Everything the account puts on the bus (an archive needs a pattern; this matches all of it).
      eventPattern: { account: [Stack.of(this).account] },
      retention,
    });
  }
}
