#!/usr/bin/env bash
# Stages the feed image's build context from the Maven build, offline: the stream-jobs jar and the
# runtime classpath Maven resolved for it (stream-jobs/target/launcher.classpath), less the
# PyTorch native library, which the feeds never load. Run `mvn -B -DskipTests package` first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="$root/stream-jobs/target"
out="$target/feed-image/lib"
[[ -f "$target/launcher.classpath" ]] || { echo "run mvn -B -DskipTests package first" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
cp "$target"/streamlearn-stream-jobs-*.jar "$out/"
rm -f "$out"/streamlearn-stream-jobs-*-job.jar
tr ':' '\n' < "$target/launcher.classpath" | while read -r entry; do
  case "$entry" in
    *pytorch-native-*) ;;
    *.jar) cp "$entry" "$out/" ;;
    *) echo "not a jar: $entry (run mvn -B -DskipTests package)" >&2; exit 1 ;;
  esac
done
echo "staged $(ls "$out" | wc -l) jars in $out" >&2
