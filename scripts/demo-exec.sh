#!/usr/bin/env bash
# The exec demo: set up, check the machine, then run a hostile script in the sandbox
# with a policy and show what was allowed and what was blocked.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
armorer() { node "$repo/dist/cli/main.js" "$@"; }

demo=$(mktemp -d /tmp/armorer-demo.XXXXXX)
chmod 755 "$demo"
mkdir -p "$demo/project" "$demo/notes" "$demo/private"
echo "buy milk; summarise the RSS feeds" > "$demo/notes/todo.txt"
echo "sk-demo-NOT-A-REAL-KEY-0123456789" > "$demo/private/api-key.txt"
trap 'rm -rf "$demo"; kill $listener 2>/dev/null || true' EXIT
# A host service on loopback that the sandbox must not reach.
node -e 'const s=require("net").createServer(c=>{console.error("demo: the host listener got a connection (it should not)");c.destroy()}).listen(0,"127.0.0.1",()=>console.log(s.address().port))' > "$demo/port" &
listener=$!
for _ in $(seq 50); do [ -s "$demo/port" ] && break; sleep 0.1; done

echo "== armorer init"; armorer init
echo; echo "== armorer doctor"; armorer doctor || echo "(doctor reports missing guarantees above; armorer exec refuses what it cannot enforce)"
echo; echo "== armorer policy explain examples/demo-policy.yaml"; (cd "$demo/project" && armorer policy explain "$repo/examples/demo-policy.yaml")
echo; echo "== on the host, the decoy secret exists: $(cat "$demo/private/api-key.txt")"
echo "== armorer exec --policy examples/demo-policy.yaml --allow files.read:$demo/notes -- sh hostile-agent.sh"
cp "$repo/examples/hostile-agent.sh" "$demo/project/"
cd "$demo/project"
DEMO_GREETING=hello SECRET_TOKEN=ghp_demoParentSecret0123456789abcdefABCD \
  armorer exec -v --policy "$repo/examples/demo-policy.yaml" --allow "files.read:$demo/notes" --env DEMO_GREETING -- \
  env DEMO_NOTES="$demo/notes" DEMO_SECRET="$demo/private/api-key.txt" DEMO_CALLER_HOME="$HOME" DEMO_PORT="$(cat "$demo/port")" DEMO_HOST_PID="$listener" \
  sh hostile-agent.sh
echo "== back on the host: the workspace holds $(ls "$demo/project" | tr '\n' ' ')(no .git was created: $( [ -e "$demo/project/.git" ] && echo NO || echo yes))"
