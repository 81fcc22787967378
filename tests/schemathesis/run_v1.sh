#!/usr/bin/env bash
# Pipedrive's own v1 contract against pipestack: the v1 OpenAPI document Pipedrive published
# (../shared/pipedrive/openapi/pipedrive-v1-snapshot-2026-01-14.yaml, a copy of which is kept
# in this folder), cut to the persons, organizations, users, deals, activities, activity types,
# notes, webhooks, their fields and
# itemSearch operations pipestack serves (v1_contract.py), run through schemathesis with the checks of
# schemathesis-v1.toml: no 5xx, and every answer of a content type and shape that document
# allows. Same server set-up as run.sh.
#
# Usage: tests/schemathesis/run_v1.sh [path/to/pipestack]   (default: target/debug/pipestack)
# Env:   ST_MAX_EXAMPLES (30), ST_TIMEOUT_SECS (900), ST_VENV (target/schemathesis-venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/pipestack}"
venv="${ST_VENV:-$root/target/schemathesis-venv}"
version="4.32.5"

if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token="schemathesis-token-0123456789"
base="http://127.0.0.1:$port"
log="$(mktemp)"
"$bin" serve --memory --listen "127.0.0.1:$port" --api-token "$token" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

call() { curl -sf -X "$1" "$base$2" -H "x-api-token: $token" -H 'content-type: application/json' -d "$3" >/dev/null; }
call POST /v1/personFields '{"name":"Tier","field_type":"enum","options":["gold","silver"]}'
for i in $(seq 3); do call POST /v1/organizations "{\"name\":\"Org $i\"}"; done
for i in $(seq 30); do
  call POST /v1/persons "{\"name\":\"Person $i\",\"org_id\":$(( i % 3 + 1 )),\"email\":\"p$i@example.com\"}"
done
for i in $(seq 5); do
  call POST /api/v2/deals "{\"title\":\"Deal $i\",\"person_id\":$i,\"org_id\":$(( i % 3 + 1 ))}"
done
for i in $(seq 5); do
  call POST /api/v2/activities "{\"subject\":\"Activity $i\",\"person_id\":$i,\"deal_id\":$i,\"due_date\":\"2026-0$i-01\"}"
  call POST /v1/notes "{\"content\":\"Note $i\",\"person_id\":$i,\"deal_id\":$i}"
done

work="$(mktemp -d)"
contract="$work/pipedrive-v1.json"
"$venv/bin/python" "$here/v1_contract.py" "$here/pipedrive-v1-snapshot-2026-01-14.yaml" \
  "$root/tests/api/seed_response.json" "$base/openapi.json" "$base" "$contract"
cd "$work"
status=0
timeout -k 10 "${ST_TIMEOUT_SECS:-900}" "$venv/bin/st" --no-color \
  --config-file "$here/schemathesis-v1.toml" \
  run "$contract" \
  --url "$base/v1" \
  -H "x-api-token: $token" \
  --max-examples "${ST_MAX_EXAMPLES:-30}" \
  --workers 1 \
  --generation-deterministic \
  --request-timeout 10 || status=$?
if grep -q "panicked" "$log"; then
  echo "schemathesis: the server panicked:" >&2
  grep -A5 "panicked" "$log" >&2
  status=1
fi
exit $status
