# Sourced by the build scripts: CMake arguments that put ccache in front of the compilers when it is
# installed (a cold cache on a fresh machine just builds normally). CCACHE_DISABLE=1 bypasses it.
ccache_args=()
if command -v ccache >/dev/null 2>&1; then
  ccache_args=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Paths under the checkout are hashed relative to it, so a clone elsewhere (CI) reuses the cache.
if [ ${#ccache_args[@]} -gt 0 ]; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
fi
