// cgroup programs: bpf_link (5.7) -> BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI (4.15) -> with
// BPF_F_ALLOW_OVERRIDE (4.10). The legacy attachments are undone with BPF_PROG_DETACH of the same
// program; the cgroup and program fds are duplicated so the caller may close theirs.
#pragma once

#include <fcntl.h>

#include <bpfprobe/attach/xdp.hpp>

namespace bpfprobe::attach {

namespace detail {

inline sys::result<sys::unique_fd> dup_fd(int fd) {
  int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) return sys::failure(errno, "dup fd " + std::to_string(fd));
  return sys::unique_fd(d);
}

class prog_attach_hold final : public hold {
 public:
  prog_attach_hold(sys::unique_fd target, sys::unique_fd prog, std::uint32_t type)
      : target_(std::move(target)), prog_(std::move(prog)), type_(type) {}
  ~prog_attach_hold() override { (void)detach(); }
  sys::result<void> detach() override {
    if (!target_) return BOOST_OUTCOME_V2_NAMESPACE::success();
    auto r = sys::prog_detach(target_.get(), prog_.get(), type_);
    target_.reset();
    prog_.reset();
    return r;
  }

 private:
  sys::unique_fd target_, prog_;
  std::uint32_t type_;
};

inline sys::result<std::unique_ptr<hold>> prog_attach_step(int cgroup_fd, int prog_fd, std::uint32_t type,
                                                           std::uint32_t flags) {
  auto target = dup_fd(cgroup_fd);
  if (!target) return target.error();
  auto prog = dup_fd(prog_fd);
  if (!prog) return prog.error();
  if (auto r = sys::prog_attach(cgroup_fd, prog_fd, type, flags); !r) return r.error();
  return std::make_unique<prog_attach_hold>(std::move(target).value(), std::move(prog).value(), type);
}

// The kernel's name of a loaded program's type ("cgroup_skb"), for the decide tables.
inline std::string prog_type_name(const probe::context& ctx, int prog_fd) {
  bpf_prog_info info{};
  if (!sys::obj_info(prog_fd, info)) return {};
  return btf::kernel_enums::name_of(ctx.enums().prog_types, info.type);
}

}  // namespace detail

// `attach_type` is the cgroup hook (BPF_CGROUP_INET_INGRESS, BPF_CGROUP_SOCK_OPS, ...).
inline sys::result<attachment> cgroup(const decide::choice& c, int prog_fd, int cgroup_fd, std::uint32_t attach_type,
                                      const policy& pol = {}) {
  std::vector<step> steps;
  // EINVAL: no BPF_LINK_CREATE (before 5.7) or no link for this attach type.
  steps.push_back({std::string(decide::path::bpf_link),
                   {},
                   true,
                   {EINVAL},
                   [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto link = sys::link_create({.prog_fd = prog_fd,
                                                   .target = static_cast<std::uint32_t>(cgroup_fd),
                                                   .attach_type = attach_type});
                     if (!link) return link.error();
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  // EINVAL: BPF_F_ALLOW_MULTI unknown (before 4.15). EPERM (programs already attached with other
  // flags) is returned as it is: changing their mode is not ours to do.
  steps.push_back({std::string(decide::path::prog_attach_multi), {}, false, {EINVAL}, [&](attachment&) {
                     return detail::prog_attach_step(cgroup_fd, prog_fd, attach_type, BPF_F_ALLOW_MULTI);
                   }});
  steps.push_back({std::string(decide::path::prog_attach_override), {}, false, {}, [&](attachment&) {
                     return detail::prog_attach_step(cgroup_fd, prog_fd, attach_type, BPF_F_ALLOW_OVERRIDE);
                   }});
  return carry_out(c, pol, std::move(steps));
}

inline sys::result<attachment> cgroup(prober& p, int prog_fd, int cgroup_fd, std::uint32_t attach_type,
                                      const policy& pol = {}) {
  std::string type = detail::prog_type_name(p.context(), prog_fd);
  return cgroup(decide::cgroup(decide::from(p), type.empty() ? "cgroup_skb" : type), prog_fd, cgroup_fd, attach_type,
                pol);
}

}  // namespace bpfprobe::attach
