// Static prediction for the object's maps: can the kernel create each one as libbpf will ask.
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <bpfprobe/check/map_create.hpp>
#include <bpfprobe/check/object_context.hpp>
#include <bpfprobe/check/pins.hpp>
#include <span>
#include <string>
#include <vector>

namespace bpfprobe::objcheck {

inline const char* map_flag_fact(std::uint32_t bit) {
  switch (bit) {
    case BPF_F_NO_PREALLOC: return "map_flag_no_prealloc";
    case BPF_F_MMAPABLE: return "map_flag_mmapable";
    case BPF_F_RDONLY_PROG: return "map_flag_rdonly_prog";
    case BPF_F_WRONLY_PROG: return "map_flag_wronly_prog";
    case BPF_F_INNER_MAP: return "map_flag_inner_map";
    default: return nullptr;
  }
}

// libbpf (1.4, bpf_map__init_kern_struct_ops) fails a struct_ops map with ENOTSUP when a member the
// kernel's struct lacks is set in the map's data; an all-zero one is skipped (a callback slot's
// program is then not loaded). DATA is the map's initial value (bpf_map__initial_value); without it a
// missing member is unknown.
inline verdict struct_ops_members(const struct btf* local, const btf_type* t, const type_ref& kern,
                                  std::span<const unsigned char> data) {
  if (!local || !t || !btf_is_composite(t)) return verdict::unknown("struct_ops value type not in the object's BTF");
  const btf_type* kt = kern.type();
  const btf_member* m = btf_members(t);
  std::vector<std::string> skipped;
  for (unsigned i = 0; i < btf_vlen(t); ++i, ++m) {
    std::string_view n = btf__name_by_offset(local, m->name_off);
    if (n.empty()) continue;
    bool found = false;
    const btf_member* km = btf_members(kt);
    for (unsigned j = 0; j < btf_vlen(kt) && !found; ++j, ++km)
      found = n == btf__name_by_offset(kern.btf, km->name_off);
    if (found) continue;
    long size = btf__resolve_size(local, m->type);
    std::size_t off = btf_member_bit_offset(t, i) / 8;
    if (data.empty() || size < 0 || off + static_cast<std::size_t>(size) > data.size())
      return verdict::unknown("member " + std::string(n) +
                              " is not in the kernel's struct (fails when the object sets it; its value was not read)");
    auto bytes = data.subspan(off, static_cast<std::size_t>(size));
    if (std::any_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b != 0; }))
      return verdict::no("member " + std::string(n) +
                         " is set, and the kernel's struct has no such member: libbpf refuses the map (ENOTSUP)");
    skipped.emplace_back(n);
  }
  if (skipped.empty()) return verdict::yes("in kernel BTF, every member known");
  std::string list;
  for (const auto& n : skipped) list += (list.empty() ? "" : ", ") + n;
  return verdict::yes("in kernel BTF; members the kernel lacks are zero, which libbpf skips: " + list);
}

inline map_result check_map(object_context& oc, const bpf_map* m) {
  map_result r;
  r.name = bpf_map__name(m);
  auto type = bpf_map__type(m);
  const char* tn = libbpf_bpf_map_type_str(type);
  r.type = tn ? tn : "type " + std::to_string(type);
  r.flags = bpf_map__map_flags(m);
  if (bpf_map__is_internal(m)) {
    // .data/.rodata/.bss/.kconfig: libbpf adds mmapable/read-only flags only where supported.
    r.needs.push_back({"misc/global_data", oc.p.misc("global_data")});
  } else {
    r.needs.push_back(
        {"map_type/" + r.type, tn ? oc.p.map_type(tn) : verdict::no("map type unknown to libbpf and this kernel")});
    // Sizes the application sets before loading: libbpf creates the map as the object has it.
    std::uint32_t max = bpf_map__max_entries(m);
    bool sized_by_libbpf = type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
    bool no_entries = type == BPF_MAP_TYPE_SK_STORAGE || type == BPF_MAP_TYPE_INODE_STORAGE ||
                      type == BPF_MAP_TYPE_TASK_STORAGE || type == BPF_MAP_TYPE_CGRP_STORAGE ||
                      type == BPF_MAP_TYPE_CGROUP_STORAGE || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE ||
                      type == BPF_MAP_TYPE_STRUCT_OPS;
    if (max == 0 && !sized_by_libbpf && !no_entries)
      // As shipped the kernel refuses it (EINVAL); libbpf-based applications size such maps before
      // load (bpf_map__set_max_entries), so it cannot be decided from the object.
      r.needs.push_back({"max_entries", verdict::unknown("max_entries is 0: the application must set it before load")});
    long page = sysconf(_SC_PAGESIZE);
    if ((type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_USER_RINGBUF) && max &&
        ((max & (max - 1)) || page <= 0 || max % static_cast<std::uint32_t>(page)))
      r.needs.push_back(
          {"max_entries", verdict::no("ring buffer size " + std::to_string(max) + " is not a power of 2 of pages")});
    for (std::uint32_t bit = 1; bit; bit <<= 1)
      if (r.flags & bit)
        if (const char* f = map_flag_fact(bit)) r.needs.push_back({std::string("misc/") + f, oc.p.misc(f)});
    // The kernel's checks of the definition, once the type is known to be there.
    if (r.needs.front().v.supported()) {
      if (auto created = oc.recorded() ? definition_rules(m) : create_as_declared(m))
        r.needs.push_back({"create/" + r.name, std::move(*created)});
    }
    if (const bpf_map* inner = bpf_map__inner_map(const_cast<bpf_map*>(m))) {
      const char* in = libbpf_bpf_map_type_str(bpf_map__type(inner));
      if (in) r.needs.push_back({std::string("map_type/") + in + " (inner)", oc.p.map_type(in)});
    }
    if (type == BPF_MAP_TYPE_STRUCT_OPS) {
      const struct btf* b = oc.btf;
      const btf_type* vt = b ? btf__type_by_id(b, bpf_map__btf_value_type_id(m)) : nullptr;
      std::string name = vt ? btf__name_by_offset(b, vt->name_off) : "";
      name = std::string(essential(name));
      auto kern = oc.kernel.find(name, BTF_KIND_STRUCT);
      if (!oc.kernel.available())
        r.needs.push_back({"struct_ops/" + name, verdict::unknown("no kernel BTF")});
      else if (!oc.kernel.has("bpf_struct_ops_" + name, BTF_KIND_STRUCT) || kern.empty())
        r.needs.push_back({"struct_ops/" + name, verdict::no("the kernel has no struct_ops type " + name)});
      else {
        std::size_t size = 0;
        const void* init = bpf_map__initial_value(m, &size);
        std::span<const unsigned char> data(static_cast<const unsigned char*>(init), init ? size : 0);
        r.needs.push_back({"struct_ops/" + name, struct_ops_members(b, vt, kern.front(), data)});
      }
    }
  }
  if (const char* pin = bpf_map__pin_path(m)) {  // LIBBPF_PIN_BY_NAME: the pin root must take it
    r.pin_path = pin;
    // The pin root is the deployed machine's, not a property of a recorded kernel.
    if (!oc.recorded()) r.needs.push_back({"pin/" + r.name, pin_precondition(m, r.pin_path)});
  }
  r.v = combine_needs(r.needs, "can be created");
  return r;
}

}  // namespace bpfprobe::objcheck
