/**
 * Connection settings shared by the client (API) and the worker, for the embedded server, a self-hosted
 * cluster (optionally mTLS) or Temporal Cloud (API key or mTLS).
 */
import fs from 'node:fs';
import type { Client, TLSConfig } from '@temporalio/client';
import type { TemporalConfig } from '../config';

export interface TemporalConnectionSettings {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export function temporalConnectionSettings(config: TemporalConfig, embeddedAddress?: string): TemporalConnectionSettings {
  if (config.mode === 'embedded') {
    if (!embeddedAddress) throw new Error('the embedded Temporal server is not running');
    return { address: embeddedAddress };
  }
  const tls = config.tls && {
    serverNameOverride: config.tls.serverName,
    serverRootCACertificate: config.tls.caPath ? fs.readFileSync(config.tls.caPath) : undefined,
    clientCertPair:
      config.tls.certPath && config.tls.keyPath
        ? { crt: fs.readFileSync(config.tls.certPath), key: fs.readFileSync(config.tls.keyPath) }
        : undefined,
  };
  return { address: config.address, tls, apiKey: config.apiKey };
}

/** Where use cases start and address workflows: a connected client and the task queue workers poll. */
export interface TemporalTarget {
  client: Client;
  taskQueue: string;
}
