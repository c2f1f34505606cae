#!/usr/bin/env bash
# Print the path of a Python that Rasa 3.6 supports (>=3.8,<3.11); exit 1 if there is none.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] < (3, 11) else 1)' 2>/dev/null; }
candidates=("${PYTHON:-}" python3.10 python3.9 python3.8)
# pyenv installs versions that its shims only expose when selected; look at them directly.
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9.*; do
  [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
done
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10 python3)
for candidate in "${candidates[@]}"; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if ok "$path"; then echo "$path"; exit 0; fi
done
echo "No Python 3.8-3.10 found; Rasa 3.6 needs one (e.g. apt-get install python3.10 or pyenv install 3.10)." >&2
exit 1
