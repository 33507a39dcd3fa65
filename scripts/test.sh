#!/usr/bin/env bash
# Installs LiveGate with its test dependencies and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
VENV=${LIVEGATE_VENV:-.venv}
mkdir -p artifacts
exec "$VENV/bin/python" -m pytest "$@"
