#!/bin/bash
# `pip install ./python` into a fresh venv, offline (--no-index: the in-tree build backend needs no
# download), then `import ard` from outside the checkout without ARD_LIBRARY: the package loads the
# libard.so of the CMake build recorded at install (ARD_BUILD_DIR) and passes its version and ABI
# checks. A second install with the library copied next to the package prefers that copy.
source "$(dirname "$0")/py_env.bash" "$1"
if ! "$PY" -c "import venv, ensurepip" 2>/dev/null; then
  echo "SKIPPED: /usr/bin/python3 has no venv/ensurepip (Debian: python3-venv)"; exit 77
fi
fail() { echo "FAILED: $*"; exit 1; }
"$PY" -m venv --system-site-packages "$WORK/v" || fail "python3 -m venv"
# pip itself must not run under the sanitizer runtime
LD_PRELOAD= ARD_BUILD_DIR="$BUILD" "$WORK/v/bin/pip" install --no-index --quiet "$SRC/python" \
  > "$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log"; fail "pip install ./python"; }
unset ARD_LIBRARY PYTHONPATH
cd "$WORK" || exit 1
out=$("$WORK/v/bin/python" -c 'import ard, sys
print(ard.__file__); print(ard.library_path); print(ard.library_version())
print(len(ard.Dataset(sys.argv[1]).where(None).items or []))' "$WORK/ds" 2>&1) ||
  { echo "$out"; fail "import ard from the venv"; }
echo "$out"
file=$(sed -n 1p <<<"$out"); lib=$(sed -n 2p <<<"$out"); ver=$(sed -n 3p <<<"$out")
case "$file" in "$WORK/v/"*) ;; *) fail "ard imported from $file, not from the venv" ;; esac
[ "$lib" = "$BUILD/libard.so" ] || fail "loaded $lib, want the recorded $BUILD/libard.so"
want=$(sed -n 's/^project(ard VERSION \([^ ]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ "$ver" = "$want" ] || fail "library version $ver, project version $want"
rec=$(ls "$WORK"/v/lib/python3*/site-packages/ard/_build_path.txt)
# libard.so next to the package wins over the recorded build
cp "$BUILD/libard.so" "$(dirname "$rec")/libard.so"
lib2=$("$WORK/v/bin/python" -c 'import ard; print(ard.library_path)') || fail "import with a copy"
[ "$lib2" = "$(dirname "$rec")/libard.so" ] || fail "loaded $lib2, want the copy next to the package"
echo "venv install: ok"
