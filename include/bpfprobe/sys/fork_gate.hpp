// Forks made by bpfprobe and the short window in which a new mapping is not yet marked
// MADV_DONTFORK exclude each other: a child forked inside that window would keep a copy of the
// mapping (and of a uprobe's breakpoint in it) that only we should have.
#pragma once

#include <mutex>
#include <shared_mutex>

namespace bpfprobe::sys {

inline std::shared_mutex& fork_gate() {
  static std::shared_mutex gate;
  return gate;
}

// Held around a fork (exclusive) and around mmap + madvise(MADV_DONTFORK) (shared).
using fork_guard = std::unique_lock<std::shared_mutex>;
using mapping_guard = std::shared_lock<std::shared_mutex>;

}  // namespace bpfprobe::sys
