#!/usr/bin/env bash
# Fetches the CUDA 12.8 build of libtorch 2.7.1 that DJL 0.35.1 expects, once, on a machine with
# internet access; the GPU image build then takes it from the folder given (offline).
#
#   deploy/images/fetch-libtorch-cu128.sh /path/to/libtorch-2.7.1-cu128
#
# The files are DJL's own distribution of libtorch (what DJL would download at run time if it
# were allowed to): publish.djl.ai/pytorch/2.7.1/files.txt lists them, gzipped, under
# cu128/linux-x86_64/native/lib/. About 3 GB unpacked.
set -euo pipefail
dest="${1:?usage: $0 <destination folder>}"
base="https://publish.djl.ai/pytorch/2.7.1"
mkdir -p "$dest/lib"
curl -fsSL "$base/files.txt" | grep '^cu128/linux-x86_64/native/lib/' | while read -r file; do
  name="$(basename "$file" .gz)"
  name="$(printf '%b' "${name//%/\\x}")"   # files.txt URL-encodes names
  echo "fetching $name" >&2
  curl -fsSL "$base/$file" | gunzip > "$dest/lib/$name"
done
test -f "$dest/lib/libtorch.so" || { echo "no libtorch.so in $dest/lib" >&2; exit 1; }
echo "libtorch cu128 in $dest/lib" >&2
