// Carries out a decide::choice: tries the candidate paths in order under a policy and falls back to
// the next one when the kernel says "not supported here".
//
// Which errors count as "not supported here" is named per path next to its call:
// classify::not_supported_here (EINVAL from an older kernel that does not know the link/attach type
// or flag - the answer the probes read as "unsupported" - and EOPNOTSUPP/ENOTSUPP from a kernel or
// driver that knows it but cannot do it here), plus ENOENT only where
// another path can still reach the target (kprobe_multi on a function ftrace cannot trace, raw_tp on
// a tracefs-only event). Everything else (EPERM, EACCES, EBUSY, EEXIST, ENODEV, ...) is the caller's
// or the system's business and is returned as it is, without trying further paths.
#pragma once

#include <algorithm>
#include <bpfprobe/attach/attachment.hpp>
#include <bpfprobe/attach/policy.hpp>
#include <bpfprobe/decide/choice.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bpfprobe::attach {

// One way to attach, ready to run.
struct step {
  std::string path;
  // Non-empty: this step cannot run (no program of the flavour it needs, no offset support, ...).
  std::string unavailable;
  bool pinnable = false;  // the hold is a bpf_link that can be pinned
  std::vector<int> fallback_errnos;
  std::function<sys::result<std::unique_ptr<detail::hold>>(attachment& details)> run;
};

inline sys::result<attachment> carry_out(const decide::choice& c, const policy& pol, std::vector<step> steps) {
  std::vector<std::string> order;
  if (!pol.force.empty()) {
    for (const auto& f : pol.force) {
      bool known = std::any_of(steps.begin(), steps.end(), [&](const step& s) { return s.path == f; });
      if (!known) return sys::failure_msg("attach " + c.hook, "no path '" + f + "' for this hook", EINVAL);
      order.push_back(f);
    }
  } else {
    for (const auto& cand : c.candidates) order.push_back(cand.path);
  }
  std::vector<attempt> attempts;
  auto skip = [&](const std::string& path, std::string why) {
    attempts.push_back({path, attempt::kind::skipped, std::move(why), 0});
  };
  const sys::error* last_failure = nullptr;
  sys::error failure_storage;
  for (const auto& path : order) {
    auto st = std::find_if(steps.begin(), steps.end(), [&](const step& s) { return s.path == path; });
    if (st == steps.end()) {
      skip(path, "this attach call has no implementation of it");
      continue;
    }
    bool forced = !pol.force.empty();
    if (pol.forbids(path)) {
      skip(path, "forbidden by policy");
      continue;
    }
    if (!st->unavailable.empty()) {
      skip(path, st->unavailable);
      continue;
    }
    if (!pol.pin.empty() && !st->pinnable) {
      skip(path, "cannot be pinned (not a bpf_link), and a pin was requested");
      continue;
    }
    const decide::candidate* cand = c.find(path);
    if (!forced && cand) {
      if (cand->v.state == status::unsupported) {
        skip(path, "unsupported: " + cand->v.reason);
        continue;
      }
      if (cand->v.state == status::unknown && !pol.try_unknown) {
        skip(path, "unknown (policy.try_unknown is off): " + cand->v.reason);
        continue;
      }
    }
    attachment out;
    auto held = st->run(out);
    if (held) {
      std::unique_ptr<detail::hold> h = std::move(held).value();
      if (!pol.pin.empty()) {
        if (auto pinned = h->pin(pol.pin); !pinned) return pinned.error();  // h detaches on the way out
      }
      attempts.push_back({path, attempt::kind::attached, cand ? cand->v.reason : std::string(), 0});
      attachment done(c.hook, path, std::move(h), std::move(attempts));
      for (const auto& [k, v] : out.details()) done.add_detail(k, v);
      return done;
    }
    failure_storage = held.error();
    last_failure = &failure_storage;
    bool unsupported_here = classify::contains(st->fallback_errnos, failure_storage.code);
    attempts.push_back({path, attempt::kind::failed,
                        failure_storage.describe() + (unsupported_here && pol.fallback ? ", fell back" : ""),
                        failure_storage.code});
    if (!unsupported_here || !pol.fallback) return failure_storage;
  }
  int code = last_failure ? last_failure->code : EOPNOTSUPP;
  return sys::failure_msg("attach " + c.hook, "no path attached: " + describe(attempts), code);
}

}  // namespace bpfprobe::attach
