// The version and the commit this build was configured from, defined in a generated source of their
// own (build_info.cpp.in) so that a new commit recompiles that one small file, not the CLI.
#pragma once

namespace bpfprobe::cli {

extern const char* const build_version;  // the project version ("0.1.0")
extern const char* const build_commit;   // 12 hex digits, or "unknown" outside a git checkout

}  // namespace bpfprobe::cli
