#!/usr/bin/env bash
# Runs every test of the solution on a fresh machine: installs what the tests need when missing,
# then `dotnet test WarehouseHybrid.sln`, and ends with one line: "N passed, N failed[, N skipped]".
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter Category!=Slow]
set -uo pipefail
cd "$(dirname "$0")"

# --- system packages the tests start for real (binary -> Debian package) ---------------------
declare -A NEED=()
# Real servers the integration tests start themselves on loopback (tests/Common/Servers).
NEED[mosquitto]=mosquitto
NEED[redis-server]=redis-server
NEED[chromium]=chromium
NEED[node]=nodejs
NEED[npm]=npm
NEED[socat]=socat
# deploy/pki/make-dev-pki.sh makes the certificates of the TLS/ACL link tests
NEED[openssl]=openssl
NEED[systemd-analyze]=systemd
missing=()
for bin in "${!NEED[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1 \
    || missing+=("${NEED[$bin]}")
done
# PostgreSQL's server binaries are not on PATH (Debian keeps them under /usr/lib/postgresql/<major>/bin).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "test.sh: could not install ${missing[*]}" >&2; exit 1; }
fi

# --- the third-party Sparkplug B decoder of the interop tests (Eclipse Tahu, npm) -----------------
if [[ ! -d tests/interop/node_modules/sparkplug-payload ]]; then
  echo "test.sh: npm install in tests/interop" >&2
  (cd tests/interop && npm install --no-audit --no-fund --loglevel=error >/dev/null) \
    || { echo "test.sh: npm install in tests/interop failed" >&2; exit 1; }
fi

# --- playwright-core for the dashboard's browser tests (drives Debian's /usr/bin/chromium; no browser download) ---
if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
  echo "test.sh: npm install in tests/browser" >&2
  (cd tests/browser && npm install --no-audit --no-fund --loglevel=error >/dev/null) \
    || { echo "test.sh: npm install in tests/browser failed" >&2; exit 1; }
fi

command -v dotnet >/dev/null 2>&1 || { echo "test.sh: the .NET SDK (dotnet) is required" >&2; exit 1; }

# --- build once, then test ------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$(pwd)/TestResults"
rm -rf "$results"
mkdir -p "$results"

dotnet build WarehouseHybrid.sln -c Release -nologo -v q || { echo "0 passed, 1 failed"; exit 1; }

dotnet test WarehouseHybrid.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m "$@"
status=$?

# --- the closing line, summed over every test project's TRX report --------------------------
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"|\/|>/, "", kv[2]); c[kv[1]] += kv[2] } }
    END { s = c["total"] - c["executed"]; if (c["notExecuted"] > s) s = c["notExecuted"]
          printf "%d %d %d\n", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], s }')
if [[ -z "${passed:-}" ]]; then passed=0; failed=0; skipped=0; fi
if ((status != 0 && failed == 0)); then failed=1; fi  # a crashed test host counts as a failure
if ((skipped > 0)); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
((status == 0 && failed == 0))
