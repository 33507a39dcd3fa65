#!/usr/bin/env bash
# Installs LiveGate, prepares an SQLite database in ./instance, creates a demo API client
# and serves the gateway on 127.0.0.1:8000 (or $PORT) with the outbox SMS backend.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
LG=${LIVEGATE_VENV:-.venv}/bin/livegate
export LIVEGATE_INSTANCE=${LIVEGATE_INSTANCE:-$PWD/instance}
"$LG" init-db
keyfile="$LIVEGATE_INSTANCE/quickstart-api-key"
if [ ! -s "$keyfile" ]; then
  umask 077
  "$LG" create-client "quickstart-$(date +%s)" --scope cases --scope tokens --scope tips --scope anchors \
    --scope broadcasts --scope review > "$keyfile"
fi
key=$(cat "$keyfile")
port=${PORT:-8000}
cat <<MSG

  LiveGate is starting on http://127.0.0.1:$port  (SQLite: $LIVEGATE_INSTANCE/livegate.db, SMS: outbox)

  Demo API key (all scopes; kept in $keyfile):
    $key

  Try it:
    curl -s http://127.0.0.1:$port/healthz
    curl -s http://127.0.0.1:$port/.well-known/jwks.json
    curl -s -X POST http://127.0.0.1:$port/v1/cases -H "Authorization: Bearer $key" \\
         -H 'Content-Type: application/json' \\
         -d '{"subject_id":"user-1","role":"viewer","declared_name":"张三","document_type":"cn_resident_id","document_number":"11010519491231002X","phone":"+8613800138000"}'
  or verify local files without the server:
    $LG verify --document card.jpg --selfie selfie.jpg --name 张三 --document-number 11010519491231002X --liveness off

MSG
exec "$LG" serve --host 127.0.0.1 --port "$port"
