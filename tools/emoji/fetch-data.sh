#!/bin/sh
# Fetch the emoji packages into tools/emoji/.data/ (ignored by git), outside the project's lockfile:
# CI never downloads them. Licences: see tools/emoji/README.md (Twemoji CC-BY 4.0, Noto Apache 2.0,
# emoji-datasource and emojibase-data MIT). Versions pinned for a reproducible data set.
set -e
cd "$(dirname "$0")"
mkdir -p .data
cd .data
for spec in emoji-datasource-twitter@16.0.0 emoji-datasource-google@16.0.0 emojibase-data@17.0.0; do
  name=${spec%@*}
  [ -f "$name/package.json" ] && continue
  npm pack "$spec" >/dev/null
  mkdir -p "$name"
  tar xzf "$name"-*.tgz -C "$name" --strip-components=1
  rm -f "$name"-*.tgz
done
ls
