import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { BlobStore } from './adapters/blob-store';
import type { KeyService } from './adapters/key-service';

export interface ReadinessCheck {
  name: string;
  run(): Promise<unknown>;
}

export function readinessChecks(deps: {
  temporal: Client;
  dataSource: DataSource;
  blobStore: BlobStore;
  keyService: KeyService;
}): ReadinessCheck[] {
  return [
    { name: 'temporal', run: () => deps.temporal.workflowService.getSystemInfo({}) },
    { name: 'database', run: () => deps.dataSource.query('SELECT 1') },
    { name: 'blobStore', run: () => deps.blobStore.checkReachable() },
    // Without the key service no document can be stored or read, and no history decoded.
    { name: 'keyService', run: () => deps.keyService.checkReachable() },
  ];
}
