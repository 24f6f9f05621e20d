#!/usr/bin/env bash
# Installs what Armorer needs on Debian/Ubuntu (when root), then npm ci + build. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# make/g++/python3 build better-sqlite3 (the audit store) from source: its prebuilt binaries come
# from GitHub, which a registry-only machine cannot reach.
for tool in bwrap:bubblewrap setfacl:acl prlimit:util-linux setpriv:util-linux nsenter:util-linux ip:iproute2 \
  make:make g++:g++ python3:python3; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
if [ "${ARMORER_SETUP_TEST_DEPS:-0}" = 1 ]; then
  # Test-only tools: curl/python3 inside the sandbox, gcc for probes, age for secrets interop,
  # PostgreSQL for the shared audit store.
  for tool in curl:curl python3:python3 gcc:gcc age:age; do
    [ -x "/usr/bin/${tool%%:*}" ] || need+=("${tool##*:}")
  done
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]} with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: missing ${need[*]}. Install them first, e.g.: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: Node.js >= 20.19 with npm is needed (Debian 12's nodejs is 18: use the NodeSource or nodejs.org packages)" >&2
  exit 1
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("setup: Node >= 20.19 is needed, this is "+process.version); process.exit(1) }'
# node-gyp would download Node's headers from nodejs.org; use the ones installed with Node.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$node_prefix/include/node/node.h" ] && export npm_config_nodedir="$node_prefix"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
