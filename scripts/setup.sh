#!/bin/sh
# Brings a fresh clone to a runnable state, and does nothing when everything is already in place:
#   1. Debian packages airlock's second layer needs (bubblewrap, setpriv, libseccomp, a C compiler);
#   2. npm packages, Node 24 among them (package.json pins it; npm scripts then run on it);
#   3. the seccomp filter generator, compiled against libseccomp (never hand-assembled BPF);
#   4. the JavaScript build of the CLI and the isolate worker (scripts/build.ts), so a one-shot
#      `airlock run` does not load the TypeScript tree; rebuilt when any of its inputs changed.
# Each step is skipped when its stamp is current. Output goes to stderr so `--json` stays clean.
set -eu
cd "$(dirname "$0")/.."
build=.airlock-build
mkdir -p "$build"

say() { printf 'airlock setup: %s\n' "$*" >&2; }

# 1. System packages.
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v setpriv >/dev/null 2>&1 || missing="$missing util-linux"
[ -f /usr/include/seccomp.h ] || missing="$missing libseccomp-dev"
command -v cc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
# The container tier's OCI driver (src/container/drivers/oci.ts); its tests run on runc.
[ -x /usr/bin/runc ] || missing="$missing runc"
# The egress forwarder inside a container sandbox (src/egress/forwarder.ts).
[ -x /usr/bin/socat ] || missing="$missing socat"
# The egress end-to-end test drives curl inside a sandbox (test/egress/container.test.ts).
[ -x /usr/bin/curl ] || missing="$missing curl"
# The workbench test installs with pip and npm inside a sandbox, over TLS with a CA it makes
# (test/container/workbench.test.ts); npm comes with the system Node.
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing="$missing python3-pip"
[ -x /usr/bin/openssl ] || missing="$missing openssl"
# The host's public CA bundle a sandbox's TLS trusts (src/container/trust.ts).
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"
# The console's browser tests drive Debian's chromium through playwright-core (test/console/).
[ -x /usr/bin/chromium ] || missing="$missing chromium"
# The audit tests start a throwaway PostgreSQL cluster of their own (test/audit/pg-cluster.ts).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages:$missing"
    # The package lists may be empty on a fresh machine; fetch them once.
    if ! apt-get install -y -q $missing >"$build/apt.log" 2>&1; then
      apt-get update -q >>"$build/apt.log" 2>&1
      apt-get install -y -q $missing >>"$build/apt.log" 2>&1 || { say "apt-get failed, see $build/apt.log"; exit 1; }
    fi
  else
    say "missing system packages:$missing"
    say "install them with: sudo apt-get install -y$missing"
    exit 1
  fi
fi

# 2. npm packages (Node 24 comes from the npm registry as the 'node' package).
stamp="$build/npm.stamp"
want=$(cat package.json package-lock.json 2>/dev/null | cksum)
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm packages"
  npm install --no-audit --no-fund >"$build/npm.log" 2>&1 || { cat "$build/npm.log" >&2; exit 1; }
  want=$(cat package.json package-lock.json | cksum)
  printf '%s' "$want" >"$stamp"
fi

# 3. Native helpers.
if [ -f native/seccomp-gen.c ]; then
  if [ ! -x "$build/seccomp-gen" ] || [ native/seccomp-gen.c -nt "$build/seccomp-gen" ]; then
    say "compiling the seccomp generator"
    cc -O2 -Wall -Werror -o "$build/seccomp-gen" native/seccomp-gen.c $(pkg-config --cflags --libs libseccomp)
  fi
fi

# 4. The JavaScript build (it checks its own stamps: nothing to do when it is current).
node_modules/.bin/node scripts/build.ts || { say "the JavaScript build failed; airlock runs from its sources meanwhile"; exit 1; }
