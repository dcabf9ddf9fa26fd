// The map behind the attach_cookie accessor's fallback tier (bpf/bpfprobe/compat/trace.bpf.h):
// one entry per attachment, keyed by the address the probe sits on — the virtual address in the
// traced process for a uprobe, the kernel address of the probe for a kprobe.
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/compat/configure.hpp>

namespace bpfprobe::compat {

// True when the object reads cookies from the map (the tier chosen or forced is "map").
[[nodiscard]] inline bool uses_cookie_map(const selection& sel) {
  const auto* c = sel.find("attach_cookie");
  return c && c->tier == BPFPROBE_COOKIE_MAP;
}

// Records `cookie` for the probe at `address`, in a loaded object.
inline sys::result<void> set_cookie(struct bpf_object* obj, std::uint64_t address, std::uint64_t cookie) {
  const std::string op = "compat set_cookie";
  struct bpf_map* m = bpf_object__find_map_by_name(obj, BPFPROBE_COOKIE_MAP_NAME);
  if (!m || !bpf_map__autocreate(m) || bpf_map__fd(m) < 0)
    return sys::failure_msg(op, BPFPROBE_COOKIE_MAP_NAME " is not loaded (the helper tier does not create it)", ENOENT);
  if (int err = bpf_map__update_elem(m, &address, sizeof(address), &cookie, sizeof(cookie), BPF_ANY); err < 0)
    return sys::failure(-err, op);
  return BOOST_OUTCOME_V2_NAMESPACE::success();
}

}  // namespace bpfprobe::compat
