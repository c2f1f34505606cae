#!/usr/bin/env bash
# Start the action server and the Rasa server on embedded defaults; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export RASA_PORT=${RASA_PORT:-5005}
export ACTION_PORT=${ACTION_PORT:-5055}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://localhost:${ACTION_PORT}/webhook}
export ASSISTANT_DATA_DIR=${ASSISTANT_DATA_DIR:-var}
export TRACKER_STORE_URL=${TRACKER_STORE_URL:-sqlite:///${ASSISTANT_DATA_DIR}/tracker.db}
source scripts/env.sh  # the rest of endpoints.yml's defaults (bot/defaults.env)
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
# Rasa's HTTP API (trackers, models) only with a token; the channels need neither.
api=()
[ -n "${RASA_API_TOKEN:-}" ] && api=(--enable-api --auth-token "$RASA_API_TOKEN")
# Sites that may embed the widget: WIDGET_ALLOWED_ORIGINS="https://www.kreis-x.de https://www.stadt-y.de"
"$VENV/bin/python" -m bot.server run "${api[@]}" --cors ${WIDGET_ALLOWED_ORIGINS:-"*"} --port "$RASA_PORT" \
  -m models/assistant.tar.gz --credentials bot/credentials.yml --endpoints endpoints.yml &
rasa_pid=$!

stop() { kill "$rasa_pid" "$actions_pid" $api_pid 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

until curl -fs "http://localhost:${RASA_PORT}/" >/dev/null 2>&1; do
  kill -0 "$rasa_pid" 2>/dev/null || { echo "The Rasa server did not start." >&2; exit 1; }
  sleep 1
done
cat <<MSG

The assistant is running on http://localhost:${RASA_PORT}
  Web chat (demo page): http://localhost:${RASA_PORT}/chat   widget script: /widget.js
  REST channel: POST http://localhost:${RASA_PORT}/webhooks/rest/webhook
  Try: curl -s -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook -d '{"sender":"me","message":"Was kostet die Wertmarke?"}'
  Terminal chat: make shell (in another terminal)
  Open callback requests: make callbacks
Press Ctrl-C to stop.
MSG
wait -n "$rasa_pid" "$actions_pid"
