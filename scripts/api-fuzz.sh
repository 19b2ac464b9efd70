#!/usr/bin/env bash
# Property-based test of the API: schemathesis generates requests from the server's own
# OpenAPI document (/api/v1/openapi.json) and checks that no answer is a 5xx and that
# every answer (status, content type, body) is one the document describes.
#
# Usage: scripts/api-fuzz.sh CXKPI_BINARY [MAX_EXAMPLES]
# Needs schemathesis (tests/api/requirements.txt) on PATH or in $CXKPI_VENV.
set -euo pipefail
cxkpi="$1"
examples="${2:-40}"
venv="${CXKPI_VENV:-$HOME/.cache/cxkpi-venv}"
schemathesis="$(command -v schemathesis || echo "$venv/bin/schemathesis")"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$cxkpi" demo "$work/ws" --customers 1000 --format json >/dev/null
# A rate limit the fuzzer cannot reach: it tests answers, not throttling.
sed -i 's/^rate_limit_per_second = .*/rate_limit_per_second = 100000/; s/^rate_limit_burst = .*/rate_limit_burst = 100000/' "$work/ws/cxkpi.toml"
token="$("$cxkpi" -w "$work/ws" token create --scope admin --name fuzz 2>/dev/null)"

"$cxkpi" -w "$work/ws" serve --addr 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/server.out" 2>/dev/null && break
    sleep 0.1
done
base="$(sed -n 's/^listening on //p' "$work/server.out")"
[ -n "$base" ] || { echo "the server did not start:"; cat "$work/server.err"; exit 1; }
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/openapi.json" -o "$work/openapi.json"

# The token deletion endpoint is left out: a generated name could revoke the token the
# run itself uses.
"$schemathesis" run "$work/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-method DELETE \
    --max-examples "$examples" \
    --seed 16 \
    --generation-database none \
    --no-color \
    --request-timeout 60
if grep -q "internal error" "$work/server.err"; then
    echo "the server logged internal errors:"; cat "$work/server.err"; exit 1
fi
