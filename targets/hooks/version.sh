#!/bin/sh
# Prints a target's version on one line (the target files' "version" command):
#   version.sh deb PACKAGE          the installed Debian package's version
#   version.sh unpacked DIR PACKAGE the version of PACKAGE unpacked into DIR by
#                                   ci/setup (its Debian changelog's first entry)
#   version.sh npm DIR PACKAGE      the version in DIR/node_modules/PACKAGE/package.json
# Exit 1 (nothing printed) when it cannot tell.
set -eu
case ${1:-} in
  deb) dpkg-query -W -f '${Version}\n' "$2" 2>/dev/null ;;
  unpacked)
    log=$2/usr/share/doc/$3/changelog.Debian.gz
    [ -r "$log" ] || exit 1
    zcat "$log" | head -n 1 | sed -n 's/^[^ ]* (\([^)]*\)).*/\1/p' ;;
  npm)
    f=$2/node_modules/$3/package.json
    [ -r "$f" ] || exit 1
    sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' "$f" | head -n 1 ;;
  *) echo "usage: version.sh deb PKG | unpacked DIR PKG | npm DIR PKG" >&2; exit 2 ;;
esac
