// configure(): before a libbpf object (or skeleton) is loaded, write each compat accessor's tier flag
// in its .rodata from probe verdicts, and report which tier each accessor got and why the better
// ones were passed over.
//
//   auto skel = my_prog__open();
//   bpfprobe::prober p;
//   auto sel = bpfprobe::compat::configure(p, skel);   // or configure(p, skel->obj, options)
//   if (!sel) ...;                                      // sel.error().describe()
//   std::cout << to_string(sel.value());
//   my_prog__load(skel);
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <bpfprobe/compat/accessors.hpp>
#include <bpfprobe/compat/selection.hpp>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::compat {

// "loop=unrolled,output=perf" (the form of BPFPROBE_COMPAT_FORCE) -> force_map. Names are checked.
inline sys::result<force_map> parse_force(std::string_view spec) {
  force_map out;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return sys::failure_msg("compat force", "expected accessor=tier, got '" + std::string(item) + "'");
    std::string_view acc = item.substr(0, eq), tier = item.substr(eq + 1);
    const accessor* a = find_accessor(acc);
    if (!a) return sys::failure_msg("compat force", "no accessor '" + std::string(acc) + "'");
    if (tier != tier_name_auto && tier != tier_name_unavailable && !find_tier(*a, tier))
      return sys::failure_msg("compat force",
                              "accessor '" + std::string(acc) + "' has no tier '" + std::string(tier) + "'");
    out[std::string(acc)] = std::string(tier);
  }
  return out;
}

namespace detail {

struct rodata_var {
  std::uint32_t offset = 0, size = 0;
};

// Variables of the object's .rodata datasec whose names start with `prefix`, by name without it.
inline std::map<std::string, rodata_var, std::less<>> rodata_vars(const struct bpf_object* obj,
                                                                  std::string_view prefix) {
  std::map<std::string, rodata_var, std::less<>> out;
  const struct btf* b = bpf_object__btf(obj);
  if (!b) return out;
  int sec = btf__find_by_name_kind(b, ".rodata", BTF_KIND_DATASEC);
  if (sec <= 0) return out;
  const btf_type* t = btf__type_by_id(b, static_cast<std::uint32_t>(sec));
  const btf_var_secinfo* vi = btf_var_secinfos(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i) {
    const btf_type* var = btf__type_by_id(b, vi[i].type);
    if (!var || !btf_is_var(var)) continue;
    std::string_view name = btf__name_by_offset(b, var->name_off);
    if (!name.starts_with(prefix)) continue;
    out[std::string(name.substr(prefix.size()))] = {vi[i].offset, vi[i].size};
  }
  return out;
}

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// A tier's verdict over all program types: supported only when every type supports it.
inline verdict tier_verdict(kernel_checks& k, const tier& t, const std::vector<std::string>& types) {
  if (types.empty()) return verdict::unknown("the object has no program that autoloads");
  verdict out = verdict::yes();
  for (const auto& pt : types) {
    verdict v = t.check(k, pt);
    if (v.state == status::unsupported) return v;
    if (v.state == status::unknown && out.supported()) out = v;
    if (out.supported() && out.reason.empty()) out.reason = v.reason;
  }
  return out;
}

}  // namespace detail

inline sys::result<selection> configure(prober& p, struct bpf_object* obj, const options& opt = {}) {
  const std::string op = "compat configure";
  if (!obj) return sys::failure_msg(op, "no object", EINVAL);
  for (const auto& [acc, tier] : opt.force) {
    const accessor* a = find_accessor(acc);
    if (!a) return sys::failure_msg(op, "no accessor '" + acc + "'");
    if (tier != tier_name_auto && tier != tier_name_unavailable && !find_tier(*a, tier))
      return sys::failure_msg(op, "accessor '" + acc + "' has no tier '" + tier + "'");
  }

  selection sel;
  sel.prog_types = opt.prog_types;
  if (sel.prog_types.empty()) {
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
      if (!bpf_program__autoload(prog)) continue;
      const char* name = libbpf_bpf_prog_type_str(bpf_program__type(prog));
      std::string type = name ? name : "unknown";
      if (std::find(sel.prog_types.begin(), sel.prog_types.end(), type) == sel.prog_types.end())
        sel.prog_types.push_back(type);
    }
  }

  struct bpf_map* rodata = bpf_object__find_map_by_name(obj, ".rodata");
  auto flags = detail::rodata_vars(obj, BPFPROBE_TIER_VAR_PREFIX);
  if (!rodata || flags.empty()) return sel;  // no compat accessor in this object
  std::size_t size = 0;
  const void* initial = bpf_map__initial_value(rodata, &size);
  if (!initial) return sys::failure_msg(op, ".rodata has no initial value", EINVAL);
  std::vector<std::byte> image(static_cast<const std::byte*>(initial), static_cast<const std::byte*>(initial) + size);
  auto compiled = detail::rodata_vars(obj, "bpfprobe_compiled_");

  kernel_checks checks(p);
  for (const auto& a : accessors()) {
    auto flag = flags.find(a.name);
    if (flag == flags.end()) continue;
    if (flag->second.size != sizeof(std::uint32_t) || flag->second.offset + 4 > image.size())
      return sys::failure_msg(op, std::string(BPFPROBE_TIER_VAR_PREFIX) + std::string(a.name) + " is not a __u32");
    std::uint32_t mask = ~0u;
    if (auto c = compiled.find(a.name); c != compiled.end() && c->second.size == 4)
      std::memcpy(&mask, image.data() + c->second.offset, 4);

    tier_choice c;
    c.accessor = a.name;
    auto forced = opt.force.find(a.name);
    auto compiled_in = [&](const tier& t) { return (mask >> t.id) & 1u; };
    auto judge = [&](const tier& t) {
      if (!compiled_in(t)) return verdict::no("compiled out of this object");
      return detail::tier_verdict(checks, t, sel.prog_types);
    };
    if (forced != opt.force.end()) {
      c.forced = true;
      c.tier_name = forced->second;
      if (forced->second == tier_name_auto) {
        c.tier = BPFPROBE_TIER_AUTO;
        c.v = verdict::unknown("forced: the program decides at load time");
      } else if (forced->second == tier_name_unavailable) {
        c.tier = BPFPROBE_TIER_UNAVAILABLE;
        c.v = verdict::no("forced unavailable: the load fails if the accessor is reached");
      } else {
        const tier* t = find_tier(a, forced->second);
        c.tier = t->id;
        c.v = about(t->how, judge(*t));
        if (!compiled_in(*t)) {
          c.tier = BPFPROBE_TIER_UNAVAILABLE;
          c.tier_name = tier_name_unavailable;
          c.v = verdict::no("forced " + std::string(t->name) + ", which is compiled out of this object");
        }
        for (const auto& better : a.tiers) {
          if (&better == t) break;
          c.passed_over.emplace_back(better.name, verdict::unknown("not tried: a later tier was forced"));
        }
      }
    } else {
      for (const auto& t : a.tiers) {
        verdict v = judge(t);
        if (v.supported()) {
          c.tier = t.id;
          c.tier_name = t.name;
          c.v = about(t.how, std::move(v));
          break;
        }
        c.passed_over.emplace_back(t.name, std::move(v));
      }
      if (c.tier_name.empty()) {
        c.tier = BPFPROBE_TIER_UNAVAILABLE;
        c.tier_name = tier_name_unavailable;
        // Unavailable is as certain as the least certain tier that failed.
        bool any_unknown = false;
        for (const auto& [n, v] : c.passed_over) any_unknown |= v.state == status::unknown;
        std::string why = "no tier works for " + detail::join(sel.prog_types);
        c.v = any_unknown ? verdict::unknown(why) : verdict::no(why);
      }
    }
    std::memcpy(image.data() + flag->second.offset, &c.tier, sizeof(c.tier));
    sel.choices.push_back(std::move(c));
  }

  if (int err = bpf_map__set_initial_value(rodata, image.data(), image.size()); err < 0)
    return sys::failure_msg(op, err == -EBUSY ? "the object is already loaded" : "cannot write .rodata", -err);

  // Maps only one tier uses: not created for the other, so a kernel without that map type loads the
  // object (libbpf poisons the dead references to them).
  auto tier_of = [&](std::string_view acc) -> std::optional<std::uint32_t> {
    if (const auto* c = sel.find(acc)) return c->tier;
    return std::nullopt;
  };
  if (auto out = tier_of("output"); out && *out != BPFPROBE_TIER_AUTO) {
    struct bpf_map* m;
    bpf_object__for_each_map(m, obj) {
      std::string_view name = bpf_map__name(m);
      if (name.ends_with(BPFPROBE_OUTPUT_RINGBUF_SUFFIX)) bpf_map__set_autocreate(m, *out == BPFPROBE_OUTPUT_RINGBUF);
      if (name.ends_with(BPFPROBE_OUTPUT_PERF_SUFFIX)) bpf_map__set_autocreate(m, *out == BPFPROBE_OUTPUT_PERF);
    }
  }
  if (auto cookie = tier_of("attach_cookie"); cookie && *cookie != BPFPROBE_TIER_AUTO) {
    if (struct bpf_map* m = bpf_object__find_map_by_name(obj, BPFPROBE_COOKIE_MAP_NAME))
      bpf_map__set_autocreate(m, *cookie == BPFPROBE_COOKIE_MAP);
  }
  return sel;
}

// A libbpf skeleton (anything with an `obj` member).
template <class Skeleton>
requires requires(Skeleton* s) { s->obj; }
inline sys::result<selection> configure(prober& p, Skeleton* skel, const options& opt = {}) {
  if (!skel) return sys::failure_msg("compat configure", "no skeleton", EINVAL);
  return configure(p, skel->obj, opt);
}

// One line per accessor, then an indented line per better tier that was passed over.
inline std::string to_string(const selection& sel) {
  std::string out = "compat tiers for " + detail::join(sel.prog_types) + "\n";
  for (const auto& c : sel.choices) {
    std::string line = "  " + c.accessor;
    line.resize(std::max<std::size_t>(line.size() + 1, 22), ' ');
    line += c.tier_name;
    if (c.forced) line += " (forced)";
    line += ": " + std::string(to_string(c.v.state));
    if (!c.v.reason.empty()) line += ", " + c.v.reason;
    out += line + "\n";
    for (const auto& [name, v] : c.passed_over)
      out += "      not " + name + ": " + std::string(to_string(v.state)) + (v.reason.empty() ? "" : ", " + v.reason) +
             "\n";
  }
  return out;
}

}  // namespace bpfprobe::compat
