#!/usr/bin/env bash
# Runs one suite (unit | containment) with node:test through tsx, on an explicit file list:
# Node 20's --test takes no globs, and a run with no files would "pass" with zero tests.
set -uo pipefail
cd "$(dirname "$0")/.."
suite=${1:?usage: run-tests.sh unit|containment}
mapfile -t files < <(find "test/$suite" -name '*.test.ts' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "run-tests: no test files in test/$suite" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
