/**
 * Recorded histories of completed workflows must replay against today's workflow code without
 * nondeterminism; otherwise a deploy would break rounds that are running. No server is needed.
 * Record new fixtures with `npm run record-fixtures` (see scripts/record-replay-fixtures.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { harness } from '../support/harness';

const fixturesDir = path.join(__dirname, '..', 'fixtures', 'histories');
const fixtures = fs.readdirSync(fixturesDir).filter((file) => file.endsWith('.json'));

function loadHistory(file: string) {
  return JSON.parse(fs.readFileSync(path.join(fixturesDir, file), 'utf8'));
}

test('there are recorded histories to replay', () => {
  expect(fixtures).toEqual(
    expect.arrayContaining([
      'probe-acknowledged.json',
      'probe-timed-out.json',
      'signing-round-completed.json',
      'signing-round-cancelled.json',
      'signing-round-failed.json',
      'signing-round-locked.json',
      // A reminder that arrived with the round's start (the patch 'invite-before-update-handlers').
      'signing-round-reminded-at-start.json',
    ]),
  );
});

test.each(fixtures)('%s replays without nondeterminism', async (file) => {
  await Worker.runReplayHistory({ workflowBundle: { codePath: harness.workflowBundle() } }, loadHistory(file));
});

test('the replayer does catch a history that the code no longer produces', async () => {
  const history = loadHistory('probe-acknowledged.json');
  const scheduled = history.events.find((event: { eventType: string }) => event.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'activityThatNoLongerExists';
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: harness.workflowBundle() } }, history),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});
