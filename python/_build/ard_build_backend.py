"""A PEP 517 build backend for the pure-Python `ard` package, standard library only.

Why not setuptools: pip builds in an isolated environment and would download setuptools there; ard
must install offline. The wheel holds python/ard/*.py plus ard/_build_path.txt, the absolute path of
the libard.so the package loads when ARD_LIBRARY is unset and no libard.so sits next to it:
  $ARD_BUILD_DIR/libard.so if ARD_BUILD_DIR is set (the CMake build directory), else
  <checkout>/build/release/libard.so if it exists, else nothing (the system loader path is used).
Version and dependencies come from ard/_version.py and pyproject.toml."""
import base64
import hashlib
import os
import re
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/
NAME = "ard"


def _version():
    with open(os.path.join(ROOT, "ard", "_version.py"), encoding="utf-8") as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def _metadata():
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    desc = re.search(r'^description = "([^"]*)"', text, re.M).group(1)
    deps = re.findall(r'"([^"]+)"', re.search(r"^dependencies = \[([^\]]*)\]", text, re.M).group(1))
    lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {_version()}",
             f"Summary: {desc}", "Requires-Python: >=3.9", "Provides-Extra: torch"]
    lines += [f"Requires-Dist: {d}" for d in deps]
    lines += ['Requires-Dist: torch; extra == "torch"']
    return "\n".join(lines) + "\n"


def _library():
    build = os.environ.get("ARD_BUILD_DIR")
    if build:
        lib = os.path.join(os.path.abspath(build), "libard.so")
        if not os.path.exists(lib):
            raise RuntimeError(f"ARD_BUILD_DIR={build}: no libard.so there (build target ard)")
        return lib
    lib = os.path.join(os.path.dirname(ROOT), "build", "release", "libard.so")
    return lib if os.path.exists(lib) else ""


def _digest(data):
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={h}"


def _write_wheel(directory, files):
    """files: {archive name: bytes}. Returns the wheel's file name."""
    dist = f"{NAME}-{_version()}.dist-info"
    files = dict(files)
    files[f"{dist}/METADATA"] = _metadata().encode()
    files[f"{dist}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: ard_build_backend\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{dist}/top_level.txt"] = b"ard\n"
    record = [f"{n},{_digest(d)},{len(d)}" for n, d in files.items()] + [f"{dist}/RECORD,,"]
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = f"{NAME}-{_version()}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files.items():
            z.writestr(n, d)
    return wheel


def _package_files():
    out = {}
    pkg = os.path.join(ROOT, "ard")
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py") or name.startswith("libard.so"):
            with open(os.path.join(pkg, name), "rb") as f:
                out[f"ard/{name}"] = f.read()
    return out


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = _package_files()
    files["ard/_build_path.txt"] = (_library() + "\n").encode()
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """`pip install -e python`: a .pth pointing at the checkout (libard: ARD_LIBRARY or a copy of
    libard.so in python/ard/, as the recorded path lives in the wheel only)."""
    return _write_wheel(wheel_directory, {"ard_editable.pth": (ROOT + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    import tarfile

    base = f"{NAME}-{_version()}"
    path = os.path.join(sdist_directory, f"{base}.tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for rel in ["pyproject.toml", "README.md", "_build/ard_build_backend.py"] + \
                   [f"ard/{n}" for n in sorted(os.listdir(os.path.join(ROOT, "ard")))
                    if n.endswith(".py")]:
            t.add(os.path.join(ROOT, rel), arcname=f"{base}/{rel}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        import io

        t.addfile(info, io.BytesIO(data))
    return os.path.basename(path)
