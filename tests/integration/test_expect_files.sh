#!/usr/bin/env bash
# Every entry of every shipped targets/*.expect.json carries a signature
# (issue 12): it is an object with a non-empty "reason" and a "message" glob
# that holds some literal text (not only * and ?) and no "[" (fnmatch would
# read a bracket class; the files write ? instead), so a peer whose failure
# changes is reported as a plain fail instead of hiding behind an old reason.
# Each key names (or, as a glob, matches) a check of the catalog whose role
# fits the target's (-C- for a client, -S- for a server or nameserver), and
# "revisions", when present, names revisions of that check's suite. No peers
# run: a second or so.
set -euo pipefail
BIN=${ACMEH_BIN:?} SRC=${ACMEH_SOURCE_DIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The catalog at every revision: `list` shows one revision per suite at a time.
"$BIN" list --revisions >"$work/revisions"
"$BIN" list >"$work/ids"
while read -r suite revs; do
  for r in $(sed 's/ (default)//' <<<"$revs"); do "$BIN" list --suite "$suite" --draft "$suite=$r" >>"$work/ids"; done
done <"$work/revisions"
python3 - "$SRC/targets" "$work/ids" "$work/revisions" <<'PY'
import fnmatch, glob, json, os, sys
tdir, ids_file, revs_file = sys.argv[1:4]
ids = {line.split()[0] for line in open(ids_file) if line.strip()}
revisions = {}
for line in open(revs_file):
    suite, *revs = line.replace("(default)", "").split()
    revisions[suite] = set(revs)
prefix = {"CORE": "core", "ARI": "ari", "PROF": "profiles", "DNSACCT": "dnsaccount", "DNSUP": "dnsupdate", "PERSIST": "dnspersist"}
problems, entries = [], 0
files = sorted(glob.glob(os.path.join(tdir, "*.expect.json")))
if not files:
    problems.append("no targets/*.expect.json found")
for f in files:
    name = os.path.basename(f)[:-len(".expect.json")]
    try:
        exp = json.load(open(f))
        role = json.load(open(os.path.join(tdir, name + ".json")))["role"]
    except (OSError, ValueError, KeyError) as e:
        problems.append("%s: %s" % (name, e))
        continue
    kind = "-C-" if role == "client" else "-S-"
    for key, v in exp.items():
        entries += 1
        where = "%s.expect.json: %s" % (name, key)
        if not isinstance(v, dict):
            problems.append("%s: is a bare reason; write {\"reason\": ..., \"message\": \"<glob over the failure message>\"}" % where)
            continue
        reason, msg = v.get("reason"), v.get("message")
        if not isinstance(reason, str) or not reason.strip():
            problems.append("%s: no reason" % where)
        if not isinstance(msg, str) or not msg.strip():
            problems.append("%s: no \"message\" signature" % where)
        elif len(msg.replace("*", "").replace("?", "").strip()) < 8:
            problems.append("%s: message %r is (almost) only wildcards" % (where, msg))
        elif "[" in msg:
            problems.append("%s: message holds \"[\", which fnmatch reads as a bracket class; write ?" % where)
        hits = sorted(i for i in ids if fnmatch.fnmatchcase(i, key))
        if not hits:
            problems.append("%s: names no check of the catalog" % where)
        wrong = [i for i in hits if kind not in i]
        if wrong:
            problems.append("%s: %s do not fit a %s target" % (where, ", ".join(wrong), role))
        revs = v.get("revisions")
        if revs is not None:
            known = set().union(*(revisions.get(prefix.get(i.split("-")[0], ""), set()) for i in hits)) if hits else set()
            if not isinstance(revs, list) or not revs or any(r not in known for r in revs):
                problems.append("%s: revisions %r are not revisions of its suite (%s)" % (where, revs, ", ".join(sorted(known))))
for p in problems:
    print("FAIL " + p)
if problems:
    sys.exit(1)
print("expect files: %d entries in %d files, each with a reason and a message signature" % (entries, len(files)))
PY
