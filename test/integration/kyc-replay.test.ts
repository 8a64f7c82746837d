/**
 * Recorded KYC case histories replay against today's workflow code without nondeterminism (a deploy must
 * not break running cases): one approved after a send-back and four eyes, its declaration signed twice in
 * child rounds; one cancelled while its declaration's child round was running. The replay test of
 * test/integration/replay.test.ts replays them too (every fixture in the folder); this file names them, so
 * a fixture that goes missing fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { harness } from '../support/harness';

const fixturesDir = path.join(__dirname, '..', 'fixtures', 'histories');
const kycFixtures = ['kyc-case-approved.json', 'kyc-case-cancelled-while-signing.json'];

test.each(kycFixtures)('%s replays without nondeterminism', async (file) => {
  const history = JSON.parse(fs.readFileSync(path.join(fixturesDir, file), 'utf8'));
  const types = new Set(history.events.map((event: { eventType: string }) => event.eventType));
  // What makes these histories worth keeping: the declaration is a child workflow.
  expect(types).toContain('EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED');
  await Worker.runReplayHistory({ workflowBundle: { codePath: harness.workflowBundle() } }, history);
});
