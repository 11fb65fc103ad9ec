#!/usr/bin/env bash
# The client suites against certbot 5.5 (Debian sid's, with trixie's
# cryptography 43, unpacked by ci/setup into /opt/acme-harness/certbot-5.5;
# target certbot-5.5): core, ari and profiles each exit 0 with
# certbot-5.5.expect.json. certbot 5.5 implements ARI (in `certbot renew`) and
# profiles (--preferred-profile), so their checks give real verdicts (pass, or
# an expected failure), never a skip, except the documented honest ARI skips.
# ~30 s (the ari run beside the others).
# Skips (exit 0) when certbot 5.5 is not unpacked.
set -euo pipefail
bin=${ACMEH_BIN:?}
certbot=/opt/acme-harness/certbot-5.5/usr/bin/certbot
if [ ! -x "$certbot" ]; then echo "SKIP: certbot 5.5 is not unpacked in /opt/acme-harness/certbot-5.5 (run ci/setup)"; exit 0; fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# run_client and verdicts
. "$(dirname "$0")/server_runs.sh"

# The unpacked prefix runs on Debian 12's python3 (PYTHONPATH, hooks/certbot.sh).
version=$(PYTHONPATH=/opt/acme-harness/certbot-5.5/usr/lib/python3/dist-packages PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -s "$certbot" --version 2>&1) || fail "certbot --version: $version"
case $version in "certbot 5.5."*) ;; *) fail "certbot --version says '$version', not certbot 5.5.x" ;; esac

# The ari run in the background, beside the others.
run_client_bg certbot-5.5 ari --suite ari
run_client certbot-5.5 core --suite core
# CORE-C-036/038 skip: certbot stops at a 429 or 503 and never sends the newOrder again, so
# there is no waiting to judge (they passed vacuously before the checks learned to tell).
# CORE-C-042 skips when certbot gives up after the first badNonce; CORE-C-045: certbot refuses
# an IP address before sending any request.
verdicts "$out/core.json" 'r["verdict"] in ("pass", "xfail") or (r["verdict"] == "skip" and r["id"] in ("CORE-C-101", "CORE-C-039", "CORE-C-036", "CORE-C-038", "CORE-C-042", "CORE-C-045"))' \
  "certbot 5.5: a core check gave neither pass nor an expected failure"
# certbot 2.1.0 crashed on a rejectedIdentifier with a detail (certbot.expect.json); 5.5 reports it.
verdicts "$out/core.json" 'r["id"] != "CORE-C-033" or r["verdict"] == "pass"' "certbot 5.5: CORE-C-033 (rejectedIdentifier reported) did not pass"
run_client certbot-5.5 profiles --suite profiles
verdicts "$out/profiles.json" 'r["verdict"] in ("pass", "xfail")' "certbot 5.5: a profiles check gave neither pass nor an expected failure"
# --preferred-profile: sent when meta.profiles lists it, not otherwise.
verdicts "$out/profiles.json" 'r["id"] not in ("PROF-C-002", "PROF-C-003", "PROF-C-004") or r["verdict"] == "pass"' \
  "certbot 5.5: PROF-C-002/003/004 (the preferred profile sent only when listed) did not pass"
wait_client_bg ari
# Honest skips: one `certbot renew` fetches RenewalInfo once and keeps its
# Retry-After for the next run (ARI-C-008, ARI-C-017: no re-fetch to judge);
# it runs at once after the issue run, before a window 4-9 s after issuance
# opens, and has no option to wait for it (ARI-C-006: no renewal inside it,
# unless a slow machine delays the renew run into the window); without
# renewalInfo it keeps to a third of the lifetime left and does not renew a
# fresh certificate (ARI-C-014); it sends no replaces, so it never meets
# alreadyReplaced (ARI-C-016).
verdicts "$out/ari.json" 'r["verdict"] in ("pass", "xfail") or (r["verdict"] == "skip" and r["id"] in ("ARI-C-006", "ARI-C-008", "ARI-C-014", "ARI-C-016", "ARI-C-017"))' \
  "certbot 5.5: an ARI check gave neither pass nor an expected failure"
# It does renew in a window already past, with a plain GET of renewalInfo/certID.
verdicts "$out/ari.json" 'r["id"] not in ("ARI-C-001", "ARI-C-002", "ARI-C-003", "ARI-C-005") or r["verdict"] == "pass"' \
  "certbot 5.5: ARI-C-001/002/003/005 did not pass"
sleep 0.2
if pgrep -f "$out/run" >/dev/null; then pgrep -af "$out/run" >&2; fail "a process of these runs outlived them"; fi
echo "PASS: core, ari, profiles against certbot 5.5"
