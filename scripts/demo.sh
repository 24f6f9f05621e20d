#!/usr/bin/env bash
# The main job: install OpenClaw from the npm registry inside the sandbox, with a policy derived
# from an intent, then run its gateway in the sandbox (egress through the proxy, the API key held
# by the broker), check its health, have one chat turn, and show the audit log.
# Without OPENAI_API_KEY in the environment (or the store), the model is a FAKE local server,
# clearly labelled: nothing leaves the machine except the npm download.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
armorer() { node "$repo/dist/cli/main.js" "$@"; }
say() { printf '\n== %s\n' "$*"; }
# Its own state directory, so the demo (and its fake key) never touches a real ~/.armorer.
export ARMORER_HOME=${ARMORER_HOME:-$HOME/.armorer-demo}
intent=${ARMORER_DEMO_INTENT:-"chat with me using OpenAI; never run shell commands"}

say "armorer init"
armorer init
# Unattended (no terminal, no passphrase given): a generated passphrase in a 0600 file.
if [ -z "${ARMORER_PASSPHRASE:-}${ARMORER_PASSPHRASE_FILE:-}" ] && ! [ -t 0 ]; then
  export ARMORER_PASSPHRASE_FILE="$ARMORER_HOME.passphrase"
  if [ ! -f "$ARMORER_PASSPHRASE_FILE" ]; then
    (umask 077; head -c 24 /dev/urandom | base64 > "$ARMORER_PASSPHRASE_FILE")
    echo "demo: no terminal and no ARMORER_PASSPHRASE: generated a passphrase in $ARMORER_PASSPHRASE_FILE (0600)"
  fi
fi
# A machine whose DNS answers the registry with a reserved address (a gateway that inspects
# traffic): allow exactly that name and address, visibly, or the install sandbox refuses it.
node --import tsx -e "import('$repo/test/lib/registry.ts').then(async (m) => { for (const u of await m.writeRegistryConfig(process.env.ARMORER_HOME)) console.log('demo: registry.npmjs.org resolves to the reserved address ' + u.address + ' here: allowed by name+address in config.yaml (egress.privateUpstreams)'); })"
[ -f "$ARMORER_HOME/secrets/identity.age" ] || { say "armorer secrets init"; armorer secrets init; }

run_flags=()
if armorer secrets list 2>/dev/null | grep -q '^OPENAI_API_KEY'; then
  echo "demo: using the OPENAI_API_KEY already in the store (the real API)"
elif [ -n "${OPENAI_API_KEY:-}" ]; then
  printf '%s' "$OPENAI_API_KEY" | armorer secrets set OPENAI_API_KEY --from-stdin
  echo "demo: stored OPENAI_API_KEY from the environment (the real API)"
else
  fake=$(mktemp -d /tmp/armorer-fake-model.XXXXXX)
  node --import tsx "$repo/scripts/fake-model.ts" --dir "$fake" > "$fake/ready" &
  fake_pid=$!
  for _ in $(seq 100); do [ -s "$fake/ready" ] && break; sleep 0.1; done
  port=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).port)' "$fake/ready")
  echo "demo: *** no OPENAI_API_KEY: using a FAKE OpenAI-compatible server on 127.0.0.1:$port ***"
  echo "demo: *** its answers are canned; the key below is a labelled fake, sent only to that server ***"
  printf 'sk-FAKE-demo-key-%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" | armorer secrets set OPENAI_API_KEY --from-stdin
  run_flags=(--dangerously-redirect "api.openai.com=127.0.0.1:$port" --dangerously-trust-ca "$fake/ca/ca-cert.pem")
fi

if ! armorer status openclaw >/dev/null 2>&1; then
  say "armorer install openclaw --intent \"$intent\" --yes"
  armorer install openclaw --intent "$intent" --yes
fi

say "armorer run openclaw ${run_flags[*]}"
log=$(mktemp /tmp/armorer-run.XXXXXX)
armorer run openclaw "${run_flags[@]}" > "$log" 2>&1 &
run_pid=$!
cleanup() { armorer stop openclaw >/dev/null 2>&1 || true; wait "$run_pid" 2>/dev/null || true; [ -n "${fake_pid:-}" ] && kill "$fake_pid" 2>/dev/null; true; }
trap cleanup EXIT
for _ in $(seq 90); do
  sleep 2
  kill -0 "$run_pid" 2>/dev/null || { cat "$log"; echo "demo: armorer run stopped early" >&2; exit 1; }
  armorer status openclaw --json 2>/dev/null |
    node -e 'process.exit(JSON.parse(require("fs").readFileSync(0, "utf8")).health?.ok ? 0 : 1)' 2>/dev/null && break
done
sed -n '/^armorer:/p' "$log"

say "armorer status openclaw"
armorer status openclaw
say "one chat turn through the gateway (WebSocket, the published port)"
node --import tsx "$repo/scripts/demo-chat.ts" "$ARMORER_HOME" openclaw "Hello! What can you do for me?"
say "armorer logs --agent openclaw (last 8)"
armorer logs --agent openclaw | tail -8 | cut -c1-200
say "armorer stop openclaw; armorer logs verify"
armorer stop openclaw
wait "$run_pid" 2>/dev/null || true
armorer logs verify
echo
if [ ${#run_flags[@]} -gt 0 ]; then
  echo "The model was FAKE. For a real one: ARMORER_HOME=$ARMORER_HOME node dist/cli/main.js secrets set OPENAI_API_KEY"
fi
echo "Run it again: ARMORER_HOME=$ARMORER_HOME node dist/cli/main.js run openclaw (the gateway is published on 127.0.0.1, see armorer status)"
