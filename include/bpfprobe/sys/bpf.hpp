// Typed wrappers over bpf(2). Each returns result<…> carrying errno and, for loads, the log.
#pragma once

#include <linux/bpf.h>

#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/syscalls.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::sys {

inline std::uint64_t ptr_to_u64(const void* p) noexcept {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}

inline const char* bpf_cmd_name(int cmd) noexcept {
  switch (cmd) {
    case BPF_MAP_CREATE: return "BPF_MAP_CREATE";
    case BPF_MAP_LOOKUP_ELEM: return "BPF_MAP_LOOKUP_ELEM";
    case BPF_MAP_UPDATE_ELEM: return "BPF_MAP_UPDATE_ELEM";
    case BPF_PROG_LOAD: return "BPF_PROG_LOAD";
    case BPF_OBJ_PIN: return "BPF_OBJ_PIN";
    case BPF_OBJ_GET: return "BPF_OBJ_GET";
    case BPF_PROG_ATTACH: return "BPF_PROG_ATTACH";
    case BPF_PROG_DETACH: return "BPF_PROG_DETACH";
    case BPF_PROG_TEST_RUN: return "BPF_PROG_TEST_RUN";
    case BPF_PROG_GET_NEXT_ID: return "BPF_PROG_GET_NEXT_ID";
    case BPF_MAP_GET_NEXT_ID: return "BPF_MAP_GET_NEXT_ID";
    case BPF_PROG_GET_FD_BY_ID: return "BPF_PROG_GET_FD_BY_ID";
    case BPF_MAP_GET_FD_BY_ID: return "BPF_MAP_GET_FD_BY_ID";
    case BPF_OBJ_GET_INFO_BY_FD: return "BPF_OBJ_GET_INFO_BY_FD";
    case BPF_PROG_QUERY: return "BPF_PROG_QUERY";
    case BPF_RAW_TRACEPOINT_OPEN: return "BPF_RAW_TRACEPOINT_OPEN";
    case BPF_BTF_LOAD: return "BPF_BTF_LOAD";
    case BPF_BTF_GET_FD_BY_ID: return "BPF_BTF_GET_FD_BY_ID";
    case BPF_TASK_FD_QUERY: return "BPF_TASK_FD_QUERY";
    case BPF_BTF_GET_NEXT_ID: return "BPF_BTF_GET_NEXT_ID";
    case BPF_LINK_CREATE: return "BPF_LINK_CREATE";
    case BPF_LINK_UPDATE: return "BPF_LINK_UPDATE";
    case BPF_LINK_GET_FD_BY_ID: return "BPF_LINK_GET_FD_BY_ID";
    case BPF_LINK_GET_NEXT_ID: return "BPF_LINK_GET_NEXT_ID";
    case BPF_ENABLE_STATS: return "BPF_ENABLE_STATS";
    case BPF_ITER_CREATE: return "BPF_ITER_CREATE";
    case BPF_LINK_DETACH: return "BPF_LINK_DETACH";
    case BPF_PROG_BIND_MAP: return "BPF_PROG_BIND_MAP";
    default: return "bpf";
  }
}

// Calls bpf(cmd) with a zero-padded attr. Returns the syscall's value (an fd or 0).
inline result<long> bpf_call(int cmd, union bpf_attr& attr, std::string_view op = {}) noexcept {
  errno = 0;
  long ret = syscalls::active().bpf(cmd, &attr, sizeof(attr));
  if (ret < 0) {
    int err = errno ? errno : EINVAL;
    return failure(err, op.empty() ? bpf_cmd_name(cmd) : std::string(op));
  }
  return ret;
}

// bpf(cmd) for a command that answers only success or failure.
inline result<void> bpf_status_call(int cmd, union bpf_attr& attr, std::string_view op = {}) noexcept {
  if (auto r = bpf_call(cmd, attr, op); !r) return r.error();
  return BOOST_OUTCOME_V2_NAMESPACE::success();
}

inline result<unique_fd> bpf_fd_call(int cmd, union bpf_attr& attr, std::string_view op = {}) {
  auto fd = bpf_call(cmd, attr, op);
  if (!fd) return fd.error();
  return unique_fd(static_cast<int>(fd.value()));
}

// Everything BPF_PROG_LOAD takes that probes use.
struct prog_load_args {
  std::uint32_t type = 0;
  std::span<const bpf_insn> insns;
  const char* license = "GPL";
  std::uint32_t expected_attach_type = 0;
  std::uint32_t attach_btf_id = 0;
  int attach_btf_obj_fd = 0;  // shares storage with attach_prog_fd in the kernel's attr
  int attach_prog_fd = 0;
  std::uint32_t prog_flags = 0;
  std::uint32_t kern_version = 0;
  std::string_view name;
  int prog_btf_fd = 0;
  std::span<const bpf_func_info> func_info;
  const int* fd_array = nullptr;
  std::uint32_t log_level = 1;
  std::size_t log_size = 16 * 1024;  // 0: no log
};

namespace detail {
inline std::vector<char>& log_buffer(std::size_t size) {
  thread_local std::vector<char> buf;
  if (buf.size() < size) buf.resize(size);
  return buf;
}
// string_view::copy, not memcpy: an unnamed object's view has a null data(), and memcpy from null is
// undefined even for 0 bytes (UBSan: nonnull-attribute).
inline void copy_name(char (&dst)[BPF_OBJ_NAME_LEN], std::string_view name) noexcept {
  name.copy(dst, sizeof(dst) - 1);
}
}  // namespace detail

inline result<unique_fd> prog_load(const prog_load_args& a) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = a.type;
  attr.insns = ptr_to_u64(a.insns.data());
  attr.insn_cnt = static_cast<std::uint32_t>(a.insns.size());
  attr.license = ptr_to_u64(a.license);
  attr.expected_attach_type = a.expected_attach_type;
  attr.attach_btf_id = a.attach_btf_id;
  attr.attach_prog_fd = static_cast<std::uint32_t>(a.attach_prog_fd ? a.attach_prog_fd : a.attach_btf_obj_fd);
  attr.prog_flags = a.prog_flags;
  attr.kern_version = a.kern_version;
  attr.prog_btf_fd = static_cast<std::uint32_t>(a.prog_btf_fd);
  if (!a.func_info.empty()) {
    attr.func_info = ptr_to_u64(a.func_info.data());
    attr.func_info_cnt = static_cast<std::uint32_t>(a.func_info.size());
    attr.func_info_rec_size = sizeof(bpf_func_info);
  }
  attr.fd_array = ptr_to_u64(a.fd_array);
  detail::copy_name(attr.prog_name, a.name);
  char* log = nullptr;
  if (a.log_size > 0 && a.log_level > 0) {
    auto& buf = detail::log_buffer(a.log_size);
    log = buf.data();
    log[0] = '\0';
    attr.log_level = a.log_level;
    attr.log_buf = ptr_to_u64(log);
    attr.log_size = static_cast<std::uint32_t>(a.log_size);
  }
  auto fd = bpf_fd_call(BPF_PROG_LOAD, attr);
  if (!fd && log) fd.assume_error().log.assign(log, strnlen(log, a.log_size));
  return fd;
}

struct map_create_args {
  std::uint32_t type = 0;
  std::uint32_t key_size = 4;
  std::uint32_t value_size = 4;
  std::uint32_t max_entries = 1;
  std::uint32_t map_flags = 0;
  int inner_map_fd = 0;
  int btf_fd = 0;
  std::uint32_t btf_key_type_id = 0;
  std::uint32_t btf_value_type_id = 0;
  std::uint32_t btf_vmlinux_value_type_id = 0;
  std::uint64_t map_extra = 0;
  std::string_view name;
};

inline result<unique_fd> map_create(const map_create_args& a) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_type = a.type;
  attr.key_size = a.key_size;
  attr.value_size = a.value_size;
  attr.max_entries = a.max_entries;
  attr.map_flags = a.map_flags;
  attr.inner_map_fd = static_cast<std::uint32_t>(a.inner_map_fd);
  attr.btf_fd = static_cast<std::uint32_t>(a.btf_fd);
  attr.btf_key_type_id = a.btf_key_type_id;
  attr.btf_value_type_id = a.btf_value_type_id;
  attr.btf_vmlinux_value_type_id = a.btf_vmlinux_value_type_id;
  attr.map_extra = a.map_extra;
  detail::copy_name(attr.map_name, a.name);
  return bpf_fd_call(BPF_MAP_CREATE, attr);
}

// Loads raw BTF bytes. The BTF log is kept in the error when the kernel rejects them.
inline result<unique_fd> btf_load(std::span<const std::byte> data, std::size_t log_size = 4096) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.btf = ptr_to_u64(data.data());
  attr.btf_size = static_cast<std::uint32_t>(data.size());
  char* log = nullptr;
  if (log_size > 0) {
    auto& buf = detail::log_buffer(log_size);
    log = buf.data();
    log[0] = '\0';
    attr.btf_log_level = 1;
    attr.btf_log_buf = ptr_to_u64(log);
    attr.btf_log_size = static_cast<std::uint32_t>(log_size);
  }
  auto fd = bpf_fd_call(BPF_BTF_LOAD, attr);
  if (!fd && log) fd.assume_error().log.assign(log, strnlen(log, log_size));
  return fd;
}

inline result<void> map_update(int map_fd, const void* key, const void* value, std::uint64_t flags = BPF_ANY) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_fd = static_cast<std::uint32_t>(map_fd);
  attr.key = ptr_to_u64(key);
  attr.value = ptr_to_u64(value);
  attr.flags = flags;
  return bpf_status_call(BPF_MAP_UPDATE_ELEM, attr);
}

inline result<void> map_lookup(int map_fd, const void* key, void* value) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_fd = static_cast<std::uint32_t>(map_fd);
  attr.key = ptr_to_u64(key);
  attr.value = ptr_to_u64(value);
  return bpf_status_call(BPF_MAP_LOOKUP_ELEM, attr);
}

// BPF_PROG_TEST_RUN with an input packet/context; returns the program's return value.
struct test_run_args {
  std::span<const std::byte> data_in;
  std::span<std::byte> ctx_in;
  std::uint32_t repeat = 1;
  std::uint32_t flags = 0;
};

inline result<std::uint32_t> prog_test_run(int prog_fd, const test_run_args& a = {}) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = static_cast<std::uint32_t>(prog_fd);
  attr.test.data_in = ptr_to_u64(a.data_in.data());
  attr.test.data_size_in = static_cast<std::uint32_t>(a.data_in.size());
  attr.test.ctx_in = ptr_to_u64(a.ctx_in.data());
  attr.test.ctx_size_in = static_cast<std::uint32_t>(a.ctx_in.size());
  attr.test.repeat = a.repeat;
  attr.test.flags = a.flags;
  if (auto r = bpf_call(BPF_PROG_TEST_RUN, attr); !r) return r.error();
  return attr.test.retval;
}

// BPF_OBJ_GET_INFO_BY_FD into a caller-provided info struct.
template <class Info>
inline result<void> obj_info(int fd, Info& info) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.info.bpf_fd = static_cast<std::uint32_t>(fd);
  attr.info.info_len = sizeof(info);
  attr.info.info = ptr_to_u64(&info);
  return bpf_status_call(BPF_OBJ_GET_INFO_BY_FD, attr);
}

enum class object_kind { prog, map, link, btf };

// Every ID of one kernel object kind, in ascending order (needs CAP_SYS_ADMIN).
// The bpf() commands of one object kind: BPF_*_GET_NEXT_ID and BPF_*_GET_FD_BY_ID.
struct object_commands {
  int next_id, fd_by_id;
};
constexpr object_commands commands_of(object_kind kind) noexcept {
  switch (kind) {
    case object_kind::prog: break;
    case object_kind::map: return {BPF_MAP_GET_NEXT_ID, BPF_MAP_GET_FD_BY_ID};
    case object_kind::link: return {BPF_LINK_GET_NEXT_ID, BPF_LINK_GET_FD_BY_ID};
    case object_kind::btf: return {BPF_BTF_GET_NEXT_ID, BPF_BTF_GET_FD_BY_ID};
  }
  return {BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID};
}

inline result<std::vector<std::uint32_t>> object_ids(object_kind kind) {
  int cmd = commands_of(kind).next_id;
  std::vector<std::uint32_t> ids;
  std::uint32_t id = 0;
  for (;;) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.start_id = id;
    auto r = bpf_call(cmd, attr);
    if (!r) {
      if (r.error().code == ENOENT) break;
      return r.error();
    }
    id = attr.next_id;
    ids.push_back(id);
  }
  return ids;
}

}  // namespace bpfprobe::sys
