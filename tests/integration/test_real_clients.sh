#!/usr/bin/env bash
# Smoke test of the client targets (targets/<client>.json): each real client
# gets a certificate from the harness's reference server with every challenge
# its target file lists. It runs through the same client-run engine as
# `run --client` and `matrix` (harness/runner/clientrun.h): this script only
# asks `acme-harness matrix --servers reference --kinds issue` and reads
# matrix.json. Prints "PASS|FAIL|SKIP client[challenge] seconds (reason)"
# per listed challenge and "N passed, M failed, K skipped". A client is SKIP
# only when a program it needs is missing and its Debian package is not
# available here.
# Env: ACMEH_BIN, ACMEH_SOURCE_DIR (set by ctest); ACMEH_CLIENTS="lego certbot"
# to choose clients; ACMEH_CLIENT_ACTIONS="renew revoke" to also run those
# matrix kinds (each must pass).
set -uo pipefail
src=${ACMEH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${ACMEH_BIN:-$src/build/acme-harness}
targets=$src/targets
clients=${ACMEH_CLIENTS:-lego certbot uacme dehydrated node-acme-client}
tmp=$(mktemp -d /tmp/acmeh-real-clients-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Debian package holding a required program (for the SKIP decision).
package_of() {
  case $1 in node) echo nodejs ;; unshare) echo util-linux ;; *) echo "$1" ;; esac
}

# Empty when the client can run; otherwise "SKIP reason" or "FAIL reason".
missing_reason() {
  local client=$1 prog pkg
  for prog in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["requires"]))' "$targets/$client.json"); do
    command -v "$prog" >/dev/null && continue
    pkg=$(package_of "$prog")
    if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      echo "FAIL $prog missing but package $pkg is available: run ci/setup"
    else
      echo "SKIP $prog missing and no package $pkg here"
    fi
    return
  done
  if [ "$client" = node-acme-client ] && [ ! -d "$targets/node-acme-client/node_modules/acme-client" ]; then
    echo "FAIL node_modules missing: run ci/setup (npm ci in targets/node-acme-client)"
  elif [ "$client" = uacme ] && ! unshare --mount --map-root-user true 2>/dev/null; then
    echo "SKIP this machine forbids mount namespaces (uacme's CA trust needs one)"
  fi
}

passed=0 failed=0 skipped=0 runnable=()
for client in $clients; do
  reason=$(missing_reason "$client")
  if [ -z "$reason" ]; then runnable+=("$client"); continue; fi
  verdict=${reason%% *}
  echo "$verdict $client 0.0 (${reason#* })"
  if [ "$verdict" = SKIP ]; then skipped=$((skipped + 1)); else failed=$((failed + 1)); fi
done

if [ ${#runnable[@]} -gt 0 ]; then
  kinds=issue
  for action in ${ACMEH_CLIENT_ACTIONS:-}; do kinds=$kinds,$action; done
  list=$(IFS=,; echo "${runnable[*]}")
  "$bin" matrix --clients "$list" --servers reference --kinds "$kinds" --out "$tmp/out" --jobs 2 >"$tmp/matrix.out" 2>&1
  rc=$?
  if [ ! -f "$tmp/out/matrix.json" ]; then
    echo "FAIL matrix wrote no report (exit $rc):"
    sed 's/^/    /' "$tmp/matrix.out"
    exit 1
  fi
  # One line per cell that must pass: every challenge the client lists
  # (issue), and every extra kind asked for.
  read -r p f < <(python3 - "$tmp/out" "$targets" "${runnable[@]}" <<'PY'
import json, os, sys
out, targets, clients = sys.argv[1], sys.argv[2], sys.argv[3:]
doc = json.load(open(os.path.join(out, "matrix.json")))
p = f = 0
for c in doc["cells"]:
    lists = json.load(open(os.path.join(targets, c["client"] + ".json"))).get("challenges", [])
    if c["kind"] == "issue" and c["challenge"] not in lists:
        continue
    what = "%s[%s]" % (c["client"], c["challenge"]) if c["kind"] == "issue" else "%s:%s" % (c["client"], c["kind"])
    ok = c["verdict"] == "pass"
    print("%s %s %.1f%s" % ("PASS" if ok else "FAIL", what, c.get("duration_s") or 0,
                            "" if ok else " (%s: %s)" % (c["verdict"], c["reason"])), file=sys.stderr)
    if not ok and c.get("transcript"):
        tail = open(os.path.join(out, c["transcript"]), errors="replace").read().splitlines()[-15:]
        print("\n".join("    " + l for l in tail), file=sys.stderr)
    p, f = p + ok, f + (not ok)
print(p, f)
PY
  )
  passed=$((passed + p)) failed=$((failed + f))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
