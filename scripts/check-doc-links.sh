#!/usr/bin/env bash
# check-doc-links.sh — what the code cites of the documentation exists in this repository.
#
# Comments point to docs/ (never to documents outside the repository): every citation
# `docs/<file>.md` names a file that exists, every `docs/<file>.md "<Section>"` a heading of
# that file, and no comment cites one of the contract's file names (api, export, signals,
# style) without the docs/ folder.
# Prints each broken citation and exits 1; exits 0 when there is none.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dirs=(server tests scripts static bench migrations config)
bad=0
while IFS=: read -r file line cite; do
  doc=${cite%% *}
  if [ ! -f "$doc" ]; then
    echo "$file:$line: cites $doc, which does not exist"; bad=1; continue
  fi
  case "$cite" in
    *'"'*)
      section=${cite#*\"}; section=${section%\"}
      if ! grep -qxE "#+ +$(printf '%s' "$section" | sed 's/[][\.*^$/]/\\&/g')( .*)?" "$doc"; then
        echo "$file:$line: cites $doc \"$section\", which has no such heading"; bad=1
      fi ;;
  esac
done < <(grep -rnoE --exclude-dir=node_modules 'docs/[A-Za-z0-9_-]+\.md( "[^"]+")?' "${dirs[@]}" 2>/dev/null)

while IFS= read -r hit; do
  echo "$hit: cites a document outside the repository (write docs/<file>.md)"; bad=1
done < <(grep -rnE --exclude-dir=node_modules '(^|[^/A-Za-z])(api|export|signals|style)\.md' "${dirs[@]}" 2>/dev/null |
         grep -vE 'docs/(api|export|signals|style)\.md' | cut -d: -f1-2)

[ "$bad" -eq 0 ] && echo "check-doc-links: every citation of docs/ names a file and heading that exist"
exit "$bad"
