/** Locating the external binaries Sigill and its tests run (Temporal CLI, test server, PDF validators). */
import fs from 'node:fs';
import path from 'node:path';

/** The folder with package.json, whether this runs from src/ (tsx) or dist/src/ (compiled). */
function findProjectRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
}
export const projectRoot = findProjectRoot(__dirname);

/** Finds an executable: the explicit path, then PATH, then the project's own virtualenv. */
export function findExecutable(name: string, explicitPath?: string): string | undefined {
  const candidates = explicitPath
    ? [explicitPath]
    : [
        ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name)),
        path.join(projectRoot, '.venv', 'bin', name),
      ];
  return candidates.find((candidate) => {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return fs.statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

