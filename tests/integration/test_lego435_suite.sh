#!/usr/bin/env bash
# The client suites against lego 4.35 (Debian sid's, unpacked by ci/setup into
# /opt/acme-harness/lego-4.35; target lego-4.35): core, ari, profiles and
# dnsaccount each exit 0 with lego-4.35.expect.json. lego 4.35 implements ARI
# and profiles, so their checks give real verdicts (pass, or an expected
# failure), never a skip, except the documented honest ARI skips. It has no
# dns-account-01 solver: those checks skip for that. ~35 s (the ari run, mostly
# lego's own back-off in scenario ari-503, runs beside the others).
# Skips (exit 0) when lego 4.35 is not unpacked.
set -euo pipefail
bin=${ACMEH_BIN:?}
lego=/opt/acme-harness/lego-4.35/usr/bin/lego
if [ ! -x "$lego" ]; then echo "SKIP: lego 4.35 is not unpacked in /opt/acme-harness/lego-4.35 (run ci/setup)"; exit 0; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# run_client and verdicts
. "$(dirname "$0")/server_runs.sh"

# The ari run in the background, beside the others.
run_client_bg lego-4.35 ari --suite ari
run_client lego-4.35 core --suite core
# CORE-C-049 is blocked: lego 4.35 refuses an order whose identifier comes back
# lower-cased ("order identifiers have been modified by the ACME server"), so it
# never sends the CSR the check judges (scenario upper-case-name).
verdicts "$out/core.json" 'r["verdict"] in ("pass", "xfail") or (r["verdict"], r["id"]) == ("blocked", "CORE-C-049")' \
  "lego 4.35: a core check gave neither pass nor an expected failure"
run_client lego-4.35 profiles --suite profiles
verdicts "$out/profiles.json" 'r["verdict"] in ("pass", "xfail")' "lego 4.35: a profiles check gave neither pass nor an expected failure"
run_client lego-4.35 dnsaccount --suite dnsaccount
verdicts "$out/dnsaccount.json" 'r["verdict"] == "skip" and "cannot answer dns-account-01" in r["message"]' \
  "lego 4.35: a dns-account-01 check did not skip for the missing solver (has lego gained one? update lego-4.35.json)"
# lego 4.35 predates dns-persist-01 (lego v5): skipped from its target's challenges.
run_client lego-4.35 dnspersist --suite dnspersist
verdicts "$out/dnspersist.json" 'r["verdict"] == "skip" and "cannot answer dns-persist-01" in r["message"]' \
  "lego 4.35: a dns-persist-01 check was not skipped for the missing challenge"
wait_client_bg ari
# Honest skips: one `lego renew` fetches RenewalInfo once and never again
# (ARI-C-008, ARI-C-017: no re-fetch to judge), and without renewalInfo lego
# does not renew a 90-day certificate with 89 days left (ARI-C-014: no renewal).
verdicts "$out/ari.json" 'r["verdict"] in ("pass", "xfail") or (r["verdict"], r["id"]) in (("skip", "ARI-C-008"), ("skip", "ARI-C-014"), ("skip", "ARI-C-017"))' \
  "lego 4.35: an ARI check gave neither pass nor an expected failure"
# lego renews inside a window that opens seconds later (it sleeps until its own
# pick), and its renewal carries replaces; ARI-C-012 must not mistake the
# alternate-chain download of the same certificate for its successor.
verdicts "$out/ari.json" 'r["id"] not in ("ARI-C-005", "ARI-C-006", "ARI-C-012", "ARI-C-013") or r["verdict"] == "pass"' \
  "lego 4.35: ARI-C-005/006/012/013 did not pass"
verdicts "$out/profiles.json" 'r["id"] != "PROF-C-003" or r["verdict"] == "pass"' "lego 4.35: PROF-C-003 (the configured profile in newOrder) did not pass"
sleep 0.2
if pgrep -f "$out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a process of these runs outlived them"; fi
echo "PASS: core, ari, profiles, dnsaccount, dnspersist (skipped) against lego 4.35"
