#!/usr/bin/env bash
# The layers hold (docs/architecture.md): base/ includes only base/; engines (harness/, mocks/, reports/)
# include no suite header; no suite includes another suite's header; the
# registry is the only file that names the suites; every suite folder has a
# descriptor named after the folder, a catalog whose "spec" is that name, and
# one registry line. Fails with the offending file and line.
set -uo pipefail
SRC=${ACMEH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SRC" || exit 1
problems=0
bad() { echo "FAIL $*"; problems=$((problems + 1)); }

while IFS= read -r hit; do bad "engine includes a suite: $hit"; done < <(grep -rnE --include='*.[ch]' '#include "suites/' base harness mocks reports)
# The ground floor stands on nothing of ours.
while IFS= read -r hit; do bad "base/ includes a layer above it: $hit"; done < <(grep -rnE --include='*.[ch]' '#include "(harness|mocks|reports|suites)/' base)

for d in suites/*/; do
  s=$(basename "$d")
  while IFS= read -r hit; do bad "suite $s includes another suite: $hit"; done < <(
    grep -rnE '#include "suites/' "$d" | grep -v "\"suites/$s/")
  [ -f "$d/suite.c" ] || bad "suites/$s has no suite.c (its descriptor)"
  grep -qE "^const acmeh_suite ${s}_suite = \{" "$d/suite.c" 2>/dev/null || bad "suites/$s/suite.c does not define 'const acmeh_suite ${s}_suite'"
  grep -qE "\.name = \"$s\"" "$d/suite.c" 2>/dev/null || bad "suites/$s/suite.c: .name is not \"$s\""
  spec=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spec"])' "$d/catalog.json" 2>/dev/null)
  [ "$spec" = "$s" ] || bad "suites/$s/catalog.json: \"spec\" is \"$spec\", not \"$s\""
  [ "$(grep -cE "^ *X\($s\)" suites/registry.c)" = 1 ] || bad "suites/registry.c has no single X($s) line"
  [ ! -d "vectors/$s" ] && ls -d vectors/*/ | grep -qi "${s:0:4}" && bad "vectors/ has a folder like $s spelled otherwise"
done

# Only the registry declares suite descriptors; engines reach them through it.
while IFS= read -r hit; do bad "a suite descriptor named outside the registry: $hit"; done < <(
  grep -rnE --include='*.[ch]' '\b[a-z0-9]+_suite\b' harness mocks reports | grep -vE 'acmeh_suite')
# Engines call no function a suite defines (every non-static function of suites/).
for fn in $(grep -hoE '^[a-z][a-z0-9_ ]*[ *]([a-z][a-z0-9_]*)\(' suites/*/*.c | grep -v '^static' |
            sed -E 's/.*[ *]([a-z][a-z0-9_]*)\($/\1/' | sort -u); do
  while IFS= read -r hit; do bad "engine calls suite function $fn: $hit"; done < <(
    grep -rnE --include="*.[ch]" "(^|[^a-z0-9_])$fn *\\(" harness mocks reports)
done

if [ "$problems" -gt 0 ]; then echo "$problems problem(s)"; exit 1; fi
echo "structure: engines know no suite, suites know only themselves and the kit"
