#!/usr/bin/env bash
# Start the action server and the Rasa server on embedded defaults; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export RASA_PORT=${RASA_PORT:-5005}
export ACTION_PORT=${ACTION_PORT:-5055}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://localhost:${ACTION_PORT}/webhook}
export ASSISTANT_DATA_DIR=${ASSISTANT_DATA_DIR:-var}
source scripts/env.sh  # endpoints.yml's defaults: SQLite tracker store in var/, in-memory lock store
mkdir -p "$ASSISTANT_DATA_DIR"

echo "spaCy pipeline: $("$VENV/bin/python" scripts/setup_spacy.py describe)"
"$VENV/bin/python" -m callbacks.cli purge  # retention: done callback requests past their time
"$VENV/bin/rasa" run actions --actions actions --port "$ACTION_PORT" &
actions_pid=$!
api_pid=
if [ -n "${CALLBACK_API_TOKEN:-}" ]; then
  "$VENV/bin/python" -m callbacks.http &
  api_pid=$!
fi
"$VENV/bin/rasa" run --enable-api --cors "*" --port "$RASA_PORT" -m models/assistant.tar.gz \
  --credentials bot/credentials.yml --endpoints endpoints.yml &
rasa_pid=$!

stop() { kill "$rasa_pid" "$actions_pid" $api_pid 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

until curl -fs "http://localhost:${RASA_PORT}/status" >/dev/null 2>&1; do
  kill -0 "$rasa_pid" 2>/dev/null || { echo "The Rasa server did not start." >&2; exit 1; }
  sleep 1
done
cat <<MSG

The assistant is running on http://localhost:${RASA_PORT}
  REST channel: POST http://localhost:${RASA_PORT}/webhooks/rest/webhook
  Try: curl -s -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook -d '{"sender":"me","message":"Was kostet die Wertmarke?"}'
  Terminal chat: make shell (in another terminal)
  Open callback requests: make callbacks
Press Ctrl-C to stop.
MSG
wait -n "$rasa_pid" "$actions_pid"
