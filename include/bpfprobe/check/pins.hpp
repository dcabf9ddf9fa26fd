// Maps pinned by name (LIBBPF_PIN_BY_NAME): an environment precondition of the object, not a kernel
// feature. libbpf 1.4 (bpf_object__create_maps) first tries to reuse the map pinned at the pin path
// (bpf_object__reuse_map: ENOENT means "create it"; a definition that differs fails the load with
// EINVAL, "couldn't reuse pinned map at '%s': parameter mismatch"), then creates and pins it
// (bpf_map__pin: "specified path %s is not on BPF FS" and EINVAL when the pin root is no bpffs).
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <bpfprobe/probe/verdict.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <string>

namespace bpfprobe::objcheck {

// What a differing pinned map differs in (map_is_reuse_compat), empty when it matches.
inline std::string pin_mismatch(const bpf_map* m, const bpf_map_info& info) {
  std::uint32_t max = bpf_map__max_entries(m);
  if (bpf_map__type(m) == BPF_MAP_TYPE_PERF_EVENT_ARRAY && max == 0) max = info.max_entries;  // libbpf: #CPUs
  auto diff = [](const char* what, std::uint64_t pinned, std::uint64_t mine) {
    return what + std::string(" ") + std::to_string(pinned) + " pinned, " + std::to_string(mine) + " in the object";
  };
  if (info.type != static_cast<std::uint32_t>(bpf_map__type(m))) return diff("type", info.type, bpf_map__type(m));
  if (info.key_size != bpf_map__key_size(m)) return diff("key_size", info.key_size, bpf_map__key_size(m));
  if (info.value_size != bpf_map__value_size(m)) return diff("value_size", info.value_size, bpf_map__value_size(m));
  if (info.max_entries != max) return diff("max_entries", info.max_entries, max);
  if (info.map_flags != bpf_map__map_flags(m)) return diff("map_flags", info.map_flags, bpf_map__map_flags(m));
  if (info.map_extra != bpf_map__map_extra(m)) return diff("map_extra", info.map_extra, bpf_map__map_extra(m));
  return {};
}

// Whether libbpf can reuse or create-and-pin map `m` at `path` here.
inline verdict pin_precondition(const bpf_map* m, const std::string& path) {
  std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  struct statfs st {};
  if (statfs(dir.c_str(), &st) != 0) {
    int e = errno;
    return verdict::unknown("pin root " + dir + " cannot be read (" + sys::errno_name(e) + ")", e);
  }
  if (st.f_type != BPF_FS_MAGIC)
    return verdict::unknown("pin root " + dir + " is not a bpffs: libbpf cannot pin the map (EINVAL)", EINVAL,
                            "statfs " + dir + ": not BPF_FS_MAGIC");
  sys::unique_fd fd(bpf_obj_get(path.c_str()));
  if (!fd) {
    int e = errno;
    if (e == ENOENT) return verdict::yes("nothing pinned at " + path + ": libbpf creates and pins it");
    return verdict::unknown("pinned object at " + path + " cannot be opened (" + sys::errno_name(e) + ")", e);
  }
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (bpf_map_get_info_by_fd(fd.get(), &info, &len) != 0)
    return verdict::no("the object pinned at " + path + " is not a map: libbpf cannot reuse it", errno, path);
  if (std::string why = pin_mismatch(m, info); !why.empty())
    return verdict::no("an incompatible map is pinned at " + path + ": libbpf fails (EINVAL)", EINVAL, why);
  return verdict::yes("a compatible map is pinned at " + path + ": libbpf reuses it", path);
}

}  // namespace bpfprobe::objcheck
