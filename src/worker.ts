/**
 * Worker entry for production: `npm run worker` runs only the Temporal worker (scale out by running
 * several). `npm start` runs the same worker inside the all-in-one process.
 */
import { runServiceFromEnvironment } from './service';

void runServiceFromEnvironment({ api: false, worker: true });
