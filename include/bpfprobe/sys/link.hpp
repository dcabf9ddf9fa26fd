// BPF links and the other attach commands: BPF_LINK_CREATE with each link type's attr part,
// BPF_RAW_TRACEPOINT_OPEN, BPF_LINK_UPDATE/DETACH, BPF_PROG_ATTACH/DETACH (RAII), bpffs pins,
// link info, and getting fds back from object ids.
#pragma once

#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <bpfprobe/sys/bpf.hpp>
#include <bpfprobe/sys/janitor.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace bpfprobe::sys {

// The per-link-type part of link_create (the union after `flags` in the kernel's attr).
namespace link_parts {
struct none {};
struct tracing {  // fentry/fexit/fmod_ret/lsm/freplace (target_btf_id 5.10, cookie 5.19)
  std::uint32_t target_btf_id = 0;
  std::uint64_t cookie = 0;
};
struct iter {  // bpf_iter_link_info: map fd, cgroup, task parameters (5.10)
  const bpf_iter_link_info* info = nullptr;
};
struct perf_event {  // bpf_cookie (5.15)
  std::uint64_t cookie = 0;
};
struct kprobe_multi {  // syms xor addrs (5.18); flags BPF_F_KPROBE_MULTI_RETURN
  std::uint32_t flags = 0;
  std::span<const char* const> syms;
  std::span<const std::uint64_t> addrs;
  std::span<const std::uint64_t> cookies;
};
struct uprobe_multi {  // 6.6; flags BPF_F_UPROBE_MULTI_RETURN; pid 0 = every process
  const char* path = nullptr;
  std::span<const std::uint64_t> offsets;
  std::span<const std::uint64_t> ref_ctr_offsets;
  std::span<const std::uint64_t> cookies;
  std::uint32_t flags = 0;
  std::uint32_t pid = 0;
};
struct netfilter {  // 6.4; flags BPF_F_NETFILTER_IP_DEFRAG (6.6)
  std::uint32_t pf = 0;
  std::uint32_t hooknum = 0;
  std::int32_t priority = 0;
  std::uint32_t flags = 0;
};
struct mprog {  // tcx (6.6) and netkit (6.7): position relative to another prog/link (BPF_F_BEFORE/AFTER/ID/LINK)
  std::uint32_t relative_fd_or_id = 0;
  std::uint64_t expected_revision = 0;
};
// 7.2: one fentry/fexit/fsession program on many kernel functions by BTF id. Newer than the uapi
// headers bpfprobe builds against, so the fill writes the kernel's layout itself: link_create's
// union starts 16 bytes in, with { __aligned_u64 ids; __aligned_u64 cookies; __u32 cnt; }.
struct tracing_multi {
  std::span<const std::uint32_t> ids;
  std::span<const std::uint64_t> cookies;
};
}  // namespace link_parts

struct link_create_args {
  int prog_fd = -1;          // or, for struct_ops, the map fd (the kernel's attr shares the slot)
  std::uint32_t target = 0;  // target fd (cgroup, netns, perf event, sockmap, freplace target prog) or ifindex
  std::uint32_t attach_type = 0;
  std::uint32_t flags = 0;
  std::variant<link_parts::none, link_parts::tracing, link_parts::iter, link_parts::perf_event,
               link_parts::kprobe_multi, link_parts::uprobe_multi, link_parts::netfilter, link_parts::mprog,
               link_parts::tracing_multi>
      part;
};

inline result<unique_fd> link_create(const link_create_args& a) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  auto& lc = attr.link_create;
  lc.prog_fd = static_cast<std::uint32_t>(a.prog_fd);
  lc.target_fd = a.target;
  lc.attach_type = a.attach_type;
  lc.flags = a.flags;
  struct fill {
    decltype(lc)& l;
    void operator()(const link_parts::none&) const {}
    void operator()(const link_parts::tracing& p) const {
      l.tracing.target_btf_id = p.target_btf_id;
      l.tracing.cookie = p.cookie;
    }
    void operator()(const link_parts::iter& p) const {
      l.iter_info = ptr_to_u64(p.info);
      l.iter_info_len = p.info ? sizeof(*p.info) : 0;
    }
    void operator()(const link_parts::perf_event& p) const { l.perf_event.bpf_cookie = p.cookie; }
    void operator()(const link_parts::kprobe_multi& p) const {
      l.kprobe_multi.flags = p.flags;
      l.kprobe_multi.cnt = static_cast<std::uint32_t>(p.syms.empty() ? p.addrs.size() : p.syms.size());
      l.kprobe_multi.syms = p.syms.empty() ? 0 : ptr_to_u64(p.syms.data());
      l.kprobe_multi.addrs = p.addrs.empty() ? 0 : ptr_to_u64(p.addrs.data());
      l.kprobe_multi.cookies = p.cookies.empty() ? 0 : ptr_to_u64(p.cookies.data());
    }
    void operator()(const link_parts::tracing_multi& p) const {
      struct {
        std::uint64_t ids, cookies;
        std::uint32_t cnt;
      } raw{ptr_to_u64(p.ids.data()), p.cookies.empty() ? 0 : ptr_to_u64(p.cookies.data()),
            static_cast<std::uint32_t>(p.ids.size())};
      using lc_t = std::remove_reference_t<decltype(l)>;
      static_assert(offsetof(lc_t, kprobe_multi) == 16 && sizeof(lc_t) >= 16 + 20);
      std::memcpy(reinterpret_cast<char*>(&l) + 16, &raw, 20);
    }
    void operator()(const link_parts::uprobe_multi& p) const {
      l.uprobe_multi.path = ptr_to_u64(p.path);
      l.uprobe_multi.offsets = ptr_to_u64(p.offsets.data());
      l.uprobe_multi.ref_ctr_offsets = p.ref_ctr_offsets.empty() ? 0 : ptr_to_u64(p.ref_ctr_offsets.data());
      l.uprobe_multi.cookies = p.cookies.empty() ? 0 : ptr_to_u64(p.cookies.data());
      l.uprobe_multi.cnt = static_cast<std::uint32_t>(p.offsets.size());
      l.uprobe_multi.flags = p.flags;
      l.uprobe_multi.pid = p.pid;
    }
    void operator()(const link_parts::netfilter& p) const {
      l.netfilter.pf = p.pf;
      l.netfilter.hooknum = p.hooknum;
      l.netfilter.priority = p.priority;
      l.netfilter.flags = p.flags;
    }
    void operator()(const link_parts::mprog& p) const {
      l.tcx.relative_fd = p.relative_fd_or_id;  // same layout for netkit
      l.tcx.expected_revision = p.expected_revision;
    }
  };
  std::visit(fill{lc}, a.part);
  return bpf_fd_call(BPF_LINK_CREATE, attr);
}

// BPF_RAW_TRACEPOINT_OPEN: a raw_tp program by tracepoint name, or (name null) a tp_btf/fentry/
// fexit/lsm program by its load-time attach_btf_id. A bpf_link fd from 5.7, a plain fd before.
inline result<unique_fd> raw_tracepoint_open(int prog_fd, const char* name = nullptr) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.raw_tracepoint.name = ptr_to_u64(name);
  attr.raw_tracepoint.prog_fd = static_cast<std::uint32_t>(prog_fd);
  return bpf_fd_call(BPF_RAW_TRACEPOINT_OPEN, attr);
}

inline result<void> link_update(int link_fd, int new_prog_fd, std::uint32_t flags = 0, int old_prog_fd = 0) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.link_update.link_fd = static_cast<std::uint32_t>(link_fd);
  attr.link_update.new_prog_fd = static_cast<std::uint32_t>(new_prog_fd);
  attr.link_update.flags = flags;
  attr.link_update.old_prog_fd = static_cast<std::uint32_t>(old_prog_fd);
  return bpf_status_call(BPF_LINK_UPDATE, attr);
}

// Detaches the link from its hook while the fd stays valid (5.9).
inline result<void> link_detach(int link_fd) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.link_detach.link_fd = static_cast<std::uint32_t>(link_fd);
  return bpf_status_call(BPF_LINK_DETACH, attr);
}

// BPF_ITER_CREATE: a readable seq_file fd from an iter link (5.8).
// An iterator's parameters. The kernel's bpf_iter_link_info is a union: at most one group applies,
// picked by the target (map: 5.10; cgroup, task: 6.1).
struct iter_params {
  int map_fd = -1;                                             // bpf_map_elem, bpf_sk_storage_map, sockmap
  int cgroup_fd = -1;                                          // cgroup; -1 with an order: the default root
  bpf_cgroup_iter_order order = BPF_CGROUP_ITER_ORDER_UNSPEC;  // cgroup walk order
  std::uint32_t tid = 0, pid = 0, pid_fd = 0;                  // task, task_file, task_vma
};

// The one place an iterator link (BPF_TRACE_ITER, 5.8) is made: the parameters become the link's
// bpf_iter_link_info, or none when no group is set. `attach_type` is BPF_TRACE_ITER unless the
// caller read its value from the kernel's BTF.
inline result<unique_fd> iter_link_create(int prog_fd, const iter_params& p = {},
                                          std::uint32_t attach_type = BPF_TRACE_ITER) {
  bpf_iter_link_info info;
  std::memset(&info, 0, sizeof(info));
  bool any = true;
  if (p.map_fd >= 0) {
    info.map.map_fd = static_cast<std::uint32_t>(p.map_fd);
  } else if (p.cgroup_fd >= 0 || p.order != BPF_CGROUP_ITER_ORDER_UNSPEC) {
    info.cgroup.order = p.order;
    info.cgroup.cgroup_fd = static_cast<std::uint32_t>(std::max(p.cgroup_fd, 0));
  } else if (p.tid || p.pid || p.pid_fd) {
    info.task.tid = p.tid;
    info.task.pid = p.pid;
    info.task.pid_fd = p.pid_fd;
  } else {
    any = false;
  }
  return link_create({.prog_fd = prog_fd, .attach_type = attach_type, .part = link_parts::iter{any ? &info : nullptr}});
}

inline result<unique_fd> iter_create(int link_fd) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.iter_create.link_fd = static_cast<std::uint32_t>(link_fd);
  return bpf_fd_call(BPF_ITER_CREATE, attr);
}

inline result<void> obj_pin(int fd, const std::string& path) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.pathname = ptr_to_u64(path.c_str());
  attr.bpf_fd = static_cast<std::uint32_t>(fd);
  return bpf_status_call(BPF_OBJ_PIN, attr, "BPF_OBJ_PIN " + path);
}

inline result<unique_fd> obj_get(const std::string& path, std::uint32_t file_flags = 0) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.pathname = ptr_to_u64(path.c_str());
  attr.file_flags = file_flags;
  return bpf_fd_call(BPF_OBJ_GET, attr, "BPF_OBJ_GET " + path);
}

// A bpffs path that is unlinked when the object goes (whether or not a pin was made there). With
// `guard`, the path is also claimed with the janitor (sys/janitor.hpp), so a pin on a shared bpffs
// is removed if the process dies first; the next run sweeps "bpfprobe-<pid>-<start>-..." names of
// runs that are gone.
class scoped_pin {
 public:
  static constexpr std::string_view name_prefix = "bpfprobe-";

  explicit scoped_pin(std::string path, bool guard = false) : path_(std::move(path)) {
    if (!guard) return;
    auto slash = path_.rfind('/');
    if (slash != std::string::npos) {
      static std::once_flag swept;
      std::call_once(swept, [&] { janitor::sweep_dir(path_.substr(0, slash), name_prefix, false); });
    }
    claim_ = janitor::make_claim(janitor::kind::bpffs_pin, path_);
  }
  scoped_pin(scoped_pin&& o) noexcept : path_(std::exchange(o.path_, {})), claim_(std::move(o.claim_)) {}
  scoped_pin& operator=(scoped_pin&&) = delete;
  scoped_pin(const scoped_pin&) = delete;
  ~scoped_pin() {
    if (!path_.empty() && (::unlink(path_.c_str()) == 0 || errno == ENOENT)) claim_.release();
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  janitor::claim claim_;
};

// BPF_PROG_ATTACH (cgroups 4.10, sockmap/flow dissector/lirc ...); flags BPF_F_ALLOW_OVERRIDE (4.10),
// BPF_F_ALLOW_MULTI (4.15), BPF_F_REPLACE (5.6).
inline result<void> prog_attach(int target_fd, int prog_fd, std::uint32_t attach_type, std::uint32_t flags = 0,
                                int replace_prog_fd = 0) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<std::uint32_t>(target_fd);
  attr.attach_bpf_fd = static_cast<std::uint32_t>(prog_fd);
  attr.attach_type = attach_type;
  attr.attach_flags = flags;
  attr.replace_bpf_fd = static_cast<std::uint32_t>(replace_prog_fd);
  return bpf_status_call(BPF_PROG_ATTACH, attr);
}

inline result<void> prog_detach(int target_fd, int prog_fd, std::uint32_t attach_type) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<std::uint32_t>(target_fd);
  attr.attach_bpf_fd = static_cast<std::uint32_t>(prog_fd);
  attr.attach_type = attach_type;
  return bpf_status_call(BPF_PROG_DETACH, attr);
}

// A BPF_PROG_ATTACH that is undone (BPF_PROG_DETACH of the same prog) when the object goes.
class prog_attachment {
 public:
  static result<prog_attachment> attach(int target_fd, int prog_fd, std::uint32_t attach_type,
                                        std::uint32_t flags = 0) {
    if (auto r = prog_attach(target_fd, prog_fd, attach_type, flags); !r) return r.error();
    prog_attachment a;
    a.target_ = target_fd;
    a.prog_ = prog_fd;
    a.type_ = attach_type;
    return a;
  }
  prog_attachment(prog_attachment&& o) noexcept
      : target_(std::exchange(o.target_, -1)), prog_(std::exchange(o.prog_, -1)), type_(o.type_) {}
  prog_attachment& operator=(prog_attachment&&) = delete;
  prog_attachment(const prog_attachment&) = delete;
  ~prog_attachment() {
    if (target_ >= 0) (void)prog_detach(target_, prog_, type_);
  }

 private:
  prog_attachment() = default;
  int target_ = -1, prog_ = -1;
  std::uint32_t type_ = 0;
};

// BPF_PROG_QUERY: ids of the programs attached to target_fd for attach_type (4.15).
inline result<std::vector<std::uint32_t>> prog_query(int target_fd, std::uint32_t attach_type) {
  std::vector<std::uint32_t> ids(64);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = static_cast<std::uint32_t>(target_fd);
  attr.query.attach_type = attach_type;
  attr.query.prog_ids = ptr_to_u64(ids.data());
  attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
  if (auto r = bpf_call(BPF_PROG_QUERY, attr); !r) return r.error();
  ids.resize(std::min<std::size_t>(attr.query.prog_cnt, ids.size()));
  return ids;
}

// An fd for an object id (BPF_{PROG,MAP,LINK,BTF}_GET_FD_BY_ID).
inline result<unique_fd> fd_by_id(object_kind kind, std::uint32_t id) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;  // prog_id, map_id, link_id and btf_id are one field of bpf_attr
  return bpf_fd_call(commands_of(kind).fd_by_id, attr);
}

// Link info without the variable-length parts (names, addresses) that need caller buffers.
inline result<bpf_link_info> link_info(int link_fd) {
  bpf_link_info info;
  std::memset(&info, 0, sizeof(info));
  if (auto r = obj_info(link_fd, info); !r) return r.error();
  return info;
}

}  // namespace bpfprobe::sys
