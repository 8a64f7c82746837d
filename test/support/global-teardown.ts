import type { HarnessState } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { sigillHarness?: HarnessState }).sigillHarness?.stop();
}
