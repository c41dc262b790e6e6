"""The package version; CMake checks that it equals the project version (CMakeLists.txt)."""
__version__ = "0.1.0"
