// Test-side helpers for the link tests: programs and links made with libbpf's own low-level API
// (not bpfprobe's probe code), and the kernel's list of links read through BPF_LINK_GET_NEXT_ID.
#pragma once

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <bpfprobe/btf/kernel_btf.hpp>
#include <bpfprobe/sys/netlink.hpp>
#include <bpfprobe/sys/netns.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace bpfprobe::testing {

// Whether this kernel can make a veth pair (a matrix guest whose modules package is missing cannot:
// RTM_NEWLINK answers EOPNOTSUPP). Tried once, in a private network namespace.
inline bool kernel_has_veth() {
  static const bool has = [] {
    bool made = false;
    auto r = sys::in_private_netns([&](const sys::netns_guard&) {
      auto nl = sys::rtnetlink::open();
      if (nl) made = static_cast<bool>(sys::create_veth(nl.value(), "hv0", "hv1"));
    });
    return r && made;
  }();
  return has;
}
#define BPFPROBE_REQUIRE_VETH() \
  if (!::bpfprobe::testing::kernel_has_veth()) GTEST_SKIP() << "this kernel cannot create a veth pair"

// r0 = ret; exit — loaded through libbpf.
inline sys::unique_fd libbpf_prog(bpf_prog_type type, int eat = 0, int ret = 0, std::uint32_t btf_id = 0) {
  bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = ret;
  insns[1].code = BPF_JMP | BPF_EXIT;
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = static_cast<bpf_attach_type>(eat),
              .attach_btf_id = btf_id);
  return sys::unique_fd(bpf_prog_load(type, "link_test", "GPL", insns, 2, &opts));
}

inline std::uint32_t prog_id(int fd) {
  bpf_prog_info info{};
  std::uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

inline std::uint32_t map_id(int fd) {
  bpf_map_info info{};
  std::uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// Every link the kernel has now, with its info (what `bpftool link show` lists).
inline std::vector<bpf_link_info> kernel_links() {
  std::vector<bpf_link_info> out;
  std::uint32_t id = 0;
  while (bpf_link_get_next_id(id, &id) == 0) {
    sys::unique_fd fd(bpf_link_get_fd_by_id(id));
    if (!fd) continue;  // gone meanwhile
    bpf_link_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0) out.push_back(info);
  }
  return out;
}

inline std::optional<bpf_link_info> kernel_link(std::uint32_t link_id) {
  for (const auto& l : kernel_links())
    if (l.id == link_id) return l;
  return std::nullopt;
}

inline std::uint32_t link_id(int fd) {
  bpf_link_info info{};
  std::uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// Waits up to `ms` for `pred` (the kernel releases some objects after a grace period).
template <class F>
bool eventually(F&& pred, int ms = 3000) {
  for (int waited = 0;; waited += 20) {
    if (pred()) return true;
    if (waited >= ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

inline std::optional<std::uint32_t> vmlinux_id(const char* name, int kind) {
  static auto k = btf::kernel_btf::open();
  if (!k) return std::nullopt;
  return k.value().find(name, kind);
}

}  // namespace bpfprobe::testing
