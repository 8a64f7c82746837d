/**
 * Brings up what a Sigill process needs before it can work: the database, and Temporal when the process
 * talks to it. External parts come from configuration; embedded ones are started here (or joined, when
 * another Sigill process on the same DATA_DIR already runs them), in parallel to keep the first start short.
 * Each embedded part registers its stop step the moment it is up.
 */
import type { Config } from './config';
import { startOrJoinEmbeddedPostgres } from './adapters/embedded-postgres';
import { startOrJoinEmbeddedTemporal } from './adapters/temporal-dev-server';
import { temporalConnectionSettings, type TemporalConnectionSettings } from './adapters/temporal-connection';
import type { ShutdownSequence } from './lifecycle';
import type { Logger } from './logger';

export interface Infrastructure {
  databaseUrl: string;
  temporal?: TemporalConnectionSettings & { uiUrl?: string };
}

export async function startInfrastructure(
  config: Config,
  log: Logger,
  shutdown: ShutdownSequence,
  needs: { temporal: boolean },
): Promise<Infrastructure> {
  // The stop step is registered while the part is still starting: a Ctrl-C then waits for it to come up
  // and stops it. Registered only once started, a signal mid-start would exit past a Temporal server that
  // was about to listen (its own process group), leaving it running.
  const whenStarted = <T extends { stop(): Promise<void> }>(name: string, starting: Promise<T>) => {
    shutdown.add(name, async () => {
      const part = await starting.catch(() => undefined);
      await part?.stop();
    });
    return starting;
  };
  const database =
    config.database.mode === 'embedded'
      ? whenStarted('embedded PostgreSQL', startOrJoinEmbeddedPostgres(config.database, log)).then((db) => db.url)
      : Promise.resolve(config.database.url);
  const embeddedTemporal =
    needs.temporal && config.temporal.mode === 'embedded'
      ? whenStarted(
          'embedded Temporal',
          startOrJoinEmbeddedTemporal(
            { ...config.temporal, uiCodecEndpoint: config.codec.openWithoutToken ? `${config.http.publicUrl}/codec` : undefined },
            log,
          ),
        )
      : Promise.resolve(undefined);

  // allSettled: when one part fails, wait for the other so its stop step is registered before we give up.
  const [databaseUrl, temporal] = await Promise.allSettled([database, embeddedTemporal]);
  for (const result of [databaseUrl, temporal]) if (result.status === 'rejected') throw result.reason;
  const embedded = (temporal as PromiseFulfilledResult<Awaited<typeof embeddedTemporal>>).value;

  return {
    databaseUrl: (databaseUrl as PromiseFulfilledResult<string>).value,
    temporal: needs.temporal
      ? { ...temporalConnectionSettings(config.temporal, embedded?.address), uiUrl: embedded?.uiUrl }
      : undefined,
  };
}
