#!/usr/bin/env bash
# format.sh — clang-format (the style in .clang-format) over the C files of server/ tests/ bench/.
#
#   scripts/format.sh           reformat them in place
#   scripts/format.sh --check   change nothing; list the files that differ, exit 1 if any does
#
# Also `ninja -C build format` / `ninja -C build format-check`. The tree is formatted with
# clang-format 14 (Debian 12's); other versions may format some lines differently.
# Env: CLANG_FORMAT (default: clang-format on PATH).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac
clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null 2>&1 || { echo "format.sh: $clang_format not found" >&2; exit 2; }

mapfile -t files < <(find server tests bench -type f \( -name '*.c' -o -name '*.h' \) \
  -not -path '*/node_modules/*' 2>/dev/null | sort)
if [ "$check" = 0 ]; then
  [ ${#files[@]} -eq 0 ] || "$clang_format" -i "${files[@]}"
  exit 0
fi
differ=()
for f in "${files[@]}"; do
  "$clang_format" "$f" | cmp -s - "$f" || differ+=("$f")
done
if [ ${#differ[@]} -ne 0 ]; then
  echo "format-check: ${#differ[@]} of ${#files[@]} files differ from clang-format (fix: scripts/format.sh):"
  printf '  %s\n' "${differ[@]}"
  exit 1
fi
echo "format-check: ${#files[@]} files formatted"
