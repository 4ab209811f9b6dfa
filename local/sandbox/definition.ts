/**
 * What every sandbox (a local stand-in for one vendor, speaking its real protocol)
 * declares, so the hub can start the one a deployment's configuration chooses and
 * point the connector at it.
 */

/** Options the hub starts a sandbox with. */
export interface SandboxStartOptions {
  readonly host: string;
  /** TCP port of the sandbox's main server; 0 picks a free one. */
  readonly port: number;
  /** Where the sandbox keeps its state across restarts (created if missing). */
  readonly dataDir: string;
  /** The hub's webhook ingress base URL, e.g. `http://127.0.0.1:3000`: where a CRM sandbox delivers its webhooks. */
  readonly ingressUrl: string;
  /** Where progress lines go. */
  readonly log?: (line: string) => void;
}

/** A running sandbox. */
export interface RunningSandbox {
  /** Base URL of its main server, e.g. `http://127.0.0.1:4021`. */
  readonly url: string;
  /**
   * The environment the connector (settings and secret fields) and the ingest function
   * (webhook credentials) need to talk to this sandbox, e.g.
   * `{ NETSUITE_BASE_URL: …, NETSUITE_CLIENT_ID: … }`. Values the user set win over these.
   */
  readonly environment: Readonly<Record<string, string>>;
  /** Where the sandbox's control routes are, when not on `url` (the file-drop ERP's FTP server has none). @default url */
  readonly controlUrl?: string;
  close(): Promise<void>;
}

/** One vendor's sandbox. */
export interface SandboxDefinition {
  /** The connector's system name, e.g. `netsuite`. */
  readonly system: string;
  /** Port used unless `portVariable` is set, e.g. 4021. */
  readonly defaultPort: number;
  /** Environment variable that overrides the port, e.g. `HARMONY_NETSUITE_PORT`. */
  readonly portVariable: string;
  start(options: SandboxStartOptions): Promise<RunningSandbox>;
}
