#!/usr/bin/env bash
# The whole test suite: set-up, unit tests, then the containment suite against the real sandbox,
# as root AND as an unprivileged user when started as root (CI is root).
set -uo pipefail
cd "$(dirname "$0")/.."
ARMORER_SETUP_TEST_DEPS=1 bash scripts/setup.sh || exit 1

log=$(mktemp -d)
status=0
run() { # name, command...
  local name=$1; shift
  echo "=== $name"
  "$@" 2>&1 | tee "$log/$name.out"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "=== $name FAILED (exit $rc)"; status=1; }
}

# Tests, benchmarks and scripts are type-checked too (the build checks src only).
run typecheck npx --no-install tsc -p tsconfig.test.json
run unit bash scripts/run-tests.sh unit
# The audit suite runs every test against SQLite and against a throwaway PostgreSQL (Debian's
# binaries, 127.0.0.1 only). ARMORER_TEST_PG_REQUIRED=1: if PostgreSQL did not start, the suite
# fails instead of quietly testing SQLite alone.
pg_dir=$(mktemp -d /tmp/armorer-pg.XXXXXX)
pg_url=$(bash scripts/pg-test.sh start "$pg_dir") || { echo "=== PostgreSQL for the audit suite did not start"; pg_url=; }
run audit env ARMORER_TEST_PG_URL="$pg_url" ARMORER_TEST_PG_REQUIRED=1 bash scripts/run-tests.sh audit
bash scripts/pg-test.sh stop "$pg_dir"
# Suites that start real sandboxes run twice: as root (cgroups, the dedicated sandbox user) and as
# a normal user (rlimits, user namespaces only). agents installs from the npm registry (the only
# non-loopback host any test contacts).
sandbox_suites=(containment egress agents)
if [ "$(id -u)" = 0 ]; then
  for suite in "${sandbox_suites[@]}"; do run "$suite-root" bash scripts/run-tests.sh "$suite"; done
  # The real OpenClaw end to end (install from the registry, gateway in the sandbox, fake model):
  # once, as root, the way CI and most single-user hosts run it.
  run e2e-root bash scripts/run-tests.sh e2e
  id armorer-ci >/dev/null 2>&1 || useradd --create-home --shell /bin/bash armorer-ci
  copy=$(mktemp -d /tmp/armorer-unpriv.XXXXXX)
  cp -a . "$copy/repo" && chown -R armorer-ci: "$copy" && chmod 755 "$copy"
  for suite in "${sandbox_suites[@]}"; do
    # NODE_EXTRA_CA_CERTS: a TLS-inspecting gateway's CA (CI), which npm needs to reach the registry.
    run "$suite-user" runuser -u armorer-ci -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/armorer-ci \
      LANG=C.UTF-8 ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"} bash "$copy/repo/scripts/run-tests.sh" "$suite"
  done
  rm -rf "$copy"
else
  echo "=== not root: sandbox suites run once, as $(id -un) (CI runs them as root and as a normal user)"
  for suite in "${sandbox_suites[@]}" e2e; do run "$suite-user" bash scripts/run-tests.sh "$suite"; done
fi

pass=0; fail=0
for f in "$log"/*.out; do
  p=$(grep -E '^ℹ pass [0-9]+' "$f" | tail -1 | awk '{print $3}'); pass=$((pass + ${p:-0}))
  n=$(grep -E '^ℹ fail [0-9]+' "$f" | tail -1 | awk '{print $3}'); fail=$((fail + ${n:-0}))
done
rm -rf "$log"
[ "$pass" -gt 0 ] || { echo "no tests ran"; status=1; }
echo "total: $pass passed, $fail failed"
exit $status
