// Kfuncs on the running kernel: every FUNC its BTF tags bpf_kfunc is listed with a verdict; the
// untagged path (tags hidden in a copy of vmlinux BTF) finds the same kfuncs with the same
// verdicts; lazy queries agree with the section; nothing is left behind.
#include <gtest/gtest.h>

#include <bpfprobe/catalog/kfuncs.hpp>
#include <bpfprobe/prober/prober.hpp>

#include "kfunc_support.hpp"

namespace bpfprobe::testing {
namespace {

struct kfunc_fixture : kernel_btf_test {
  // The kfuncs section for a prober whose kfunc names come from `names` (empty: the kernel's).
  static probe::kfunc_section_result section_for(prober& p, const std::filesystem::path& names, bool full = false) {
    auto st = probe::make_kfunc_state(
        p.context(), [&](std::string_view t) { return p.prog_type(t).state != status::unsupported; },
        names.empty() ? std::filesystem::path(vmlinux) : names);
    return probe::kfunc_section(p.context(), *st, full, 0);
  }
};

TEST_F(kfunc_fixture, EveryTaggedKfuncIsListedWithItsModuleAndPrototype) {
  auto tagged = kernel_tagged_kfuncs();
  if (tagged.empty()) GTEST_SKIP() << "this kernel's BTF has no bpf_kfunc decl tags (pahole < 1.27)";
  prober p;
  auto s = section_for(p, {});
  EXPECT_EQ(s.facts.size(), tagged.size());
  for (const auto& [name, module] : tagged) {
    const fact* f = find(s.facts, name);
    ASSERT_NE(f, nullptr) << name << " (" << module << ") is tagged bpf_kfunc but not listed";
    EXPECT_NE(f->v.state, status::unsupported) << name << ": a tagged kfunc exists: " << f->v.reason;
    EXPECT_FALSE(f->v.evidence.empty()) << name;
    if (!f->v.supported()) {
      EXPECT_FALSE(f->v.reason.empty()) << name;
    }
    ASSERT_NE(attr(*f, "module"), nullptr);
    EXPECT_EQ(*attr(*f, "module"), module);
    ASSERT_NE(attr(*f, "prototype"), nullptr);
    EXPECT_NE(attr(*f, "prototype")->find(name + "("), std::string::npos);
    ASSERT_NE(attr(*f, "btf_id"), nullptr);
    EXPECT_EQ(*attr(*f, "source"), "bpf_kfunc decl tag");
    EXPECT_EQ(*attr(*f, "prog_types"), "not computed (use --kfuncs=full)");
  }
}

TEST_F(kfunc_fixture, ImplAndPlainSpellingsAreAliasesOnlyWhenBothExist) {
  prober p;
  auto s = section_for(p, {});
  for (const auto& f : s.facts) {
    std::string other = f.name.ends_with("_impl") ? f.name.substr(0, f.name.size() - 5) : f.name + "_impl";
    const auto* aliases = list(f, "aliases");
    if (find(s.facts, other)) {
      ASSERT_NE(aliases, nullptr) << f.name << " and " << other << " are both kfuncs";
      EXPECT_EQ(*aliases, std::vector<std::string>{other});
    } else {
      EXPECT_EQ(aliases, nullptr) << f.name;
    }
  }
  // Asking for the spelling the kernel lacks says which one it has.
  for (const auto& f : s.facts) {
    if (!f.name.ends_with("_impl") || find(s.facts, f.name.substr(0, f.name.size() - 5))) continue;
    std::string plain = f.name.substr(0, f.name.size() - 5);
    verdict v = p.kfunc(plain);
    EXPECT_EQ(v.state, status::unsupported) << plain;
    EXPECT_NE(v.reason.find("the kernel has " + f.name), std::string::npos) << v.reason;
    break;
  }
}

TEST_F(kfunc_fixture, LazyQueriesAgreeWithTheSection) {
  prober p;
  auto s = section_for(p, {});
  if (s.facts.empty()) GTEST_SKIP() << "no kfuncs found on this kernel";
  std::size_t checked = 0;
  for (const auto& f : s.facts) {
    if (checked++ % 10) continue;  // every tenth keeps the test quick
    verdict v = p.kfunc(f.name);
    EXPECT_EQ(v.state, f.v.state) << f.name;
    EXPECT_EQ(v.reason, f.v.reason) << f.name;
    if (const auto* as = attr(f, "probed_as")) {
      std::string type = as->substr(0, as->find(' '));
      verdict t = p.kfunc(f.name, type);
      EXPECT_EQ(t.state, status::supported) << f.name << " from " << type << ": " << t.reason;
    }
  }
  verdict absent = p.kfunc("bpfprobe_no_such_kfunc");
  EXPECT_EQ(absent.state, status::unsupported);
  EXPECT_NE(absent.reason.find("no FUNC"), std::string::npos) << absent.reason;
  // A kernel function that is no kfunc: its tags (or the probes) say so.
  verdict not_kfunc = p.kfunc("vfs_read");
  EXPECT_NE(not_kfunc.state, status::supported) << not_kfunc.reason;
  EXPECT_EQ(p.kfunc("bpf_rdonly_cast", "no_such_prog_type").state, status::unsupported);
}

// Program types per kfunc (--kfuncs=full): the type that decided the cheap verdict is among them,
// and a type the kernel refuses is refused by the lazy per-type query too.
TEST_F(kfunc_fixture, FullMatrixAgreesWithCheapVerdictAndLazyQueries) {
  prober p;
  auto s = section_for(p, {}, true);
  if (s.facts.empty()) GTEST_SKIP() << "no kfuncs found on this kernel";
  std::size_t checked = 0;
  for (const auto& f : s.facts) {
    const auto* types = list(f, "prog_types");
    ASSERT_NE(types, nullptr) << f.name;
    EXPECT_EQ(attr(f, "prog_types"), nullptr) << "computed, so no 'not computed' note";
    if (const auto* as = attr(f, "probed_as")) {
      std::string type = as->substr(0, as->find(' '));
      EXPECT_NE(std::find(types->begin(), types->end(), type), types->end()) << f.name << " decided by " << *as;
    } else {
      EXPECT_TRUE(types->empty()) << f.name << ": no cheap site allowed it, but the matrix found " << types->front();
    }
    if (checked++ % 20) continue;
    for (const char* t : {"syscall", "xdp", "socket_filter"}) {
      if (!p.context().prog_type(t)) continue;
      bool listed = std::find(types->begin(), types->end(), t) != types->end();
      verdict v = p.kfunc(f.name, t);
      EXPECT_EQ(v.supported(), listed) << f.name << " / " << t << ": " << v.reason;
    }
  }
}

// The no-decl-tag path: the same vmlinux BTF with its tags renamed. Kfuncs are then found by load
// probes, and every verdict matches the tagged path.
TEST_F(kfunc_fixture, UntaggedPathFindsTheSameKfuncsWithTheSameVerdicts) {
  auto tagged = kernel_tagged_kfuncs();
  if (tagged.empty()) GTEST_SKIP() << "no bpf_kfunc tags on this kernel: the report already takes the untagged path";
  auto file = std::filesystem::temp_directory_path() / ("bpfprobe-untagged-" + std::to_string(getpid()) + ".btf");
  int renamed = write_untagged_vmlinux(file);
  ASSERT_GT(renamed, 0) << "no bpf_kfunc string in vmlinux BTF";
  struct remove_file {
    std::filesystem::path p;
    ~remove_file() { std::filesystem::remove(p); }
  } cleanup{file};

  prober tagged_prober;
  auto with_tags = section_for(tagged_prober, {});
  probe::options o;
  o.kfunc_btf = file;
  prober untagged_prober(o);
  {
    auto k = btf::kernel_btf::open(file);
    ASSERT_TRUE(k);
    EXPECT_TRUE(k.value().tagged_funcs("bpf_kfunc").empty()) << "tags still visible in the copy";
  }
  auto without = section_for(untagged_prober, file);

  for (const char* must : {"bpf_rdonly_cast", "bpf_dynptr_size", "bpf_iter_num_new", "bpf_task_acquire"}) {
    const fact* t = find(with_tags.facts, must);
    if (!t || !t->v.supported()) continue;  // this kernel does not have it
    const fact* u = find(without.facts, must);
    ASSERT_NE(u, nullptr) << must << " is not found without tags";
    EXPECT_EQ(*attr(*u, "source"), "load probe");
  }
  // Everything found without tags is a tagged kfunc with the same verdict from the same site, or a
  // kfunc the kernel's tags miss: pahole left the tag off some (Debian 6.16 and 7.0 lack it on
  // hid_bpf_hw_request, which syscall programs may call); the load probe is then the only witness.
  for (const auto& u : without.facts) {
    const fact* t = find(with_tags.facts, u.name);
    if (!t) {
      EXPECT_TRUE(u.v.supported()) << u.name << " listed without tags but not callable: " << u.v.reason;
      EXPECT_EQ(*attr(u, "source"), "load probe") << u.name;
      EXPECT_FALSE(tagged.count(u.name)) << u.name << " is tagged but missing from the tagged report";
      std::cout << "note: " << u.name << " is callable (" << u.v.reason << ") but carries no bpf_kfunc tag\n";
      continue;
    }
    EXPECT_EQ(u.v.state, t->v.state) << u.name;
    EXPECT_EQ(u.v.reason, t->v.reason) << u.name;
    ASSERT_NE(attr(u, "probed_as"), nullptr);
    EXPECT_EQ(*attr(u, "probed_as"), *attr(*t, "probed_as")) << u.name;
    EXPECT_EQ(*attr(u, "prototype"), *attr(*t, "prototype")) << u.name;
    EXPECT_EQ(*attr(u, "btf_id"), *attr(*t, "btf_id")) << u.name;
  }
  // Every tagged kfunc a cheap site may call, in the candidate name spaces, is found without tags.
  for (const auto& t : with_tags.facts) {
    const auto* as = attr(t, "probed_as");
    if (!as || !btf::is_candidate(t.name) || *attr(t, "module") != "vmlinux") continue;
    std::string type = as->substr(0, as->find(' '));
    if (type != "syscall" && type != "tracing" && type != "sched_cls" && type != "xdp" && type != "struct_ops")
      continue;
    EXPECT_NE(find(without.facts, t.name), nullptr) << t.name << " (callable from " << *as << ") missed without tags";
  }
  // The lazy API on the untagged prober answers like the tagged one.
  for (const char* name : {"bpf_rdonly_cast", "bpf_dynptr_size"}) {
    if (!find(with_tags.facts, name)) continue;
    EXPECT_EQ(untagged_prober.kfunc(name).state, tagged_prober.kfunc(name).state) << name;
  }
}

TEST_F(kfunc_fixture, ModuleBtfObjectsAreFoundByName) {
  // BTF objects carry a name (and the kernel_btf flag) from 5.11, with module BTF (commit 5329722057d4).
  auto k = btf::kernel_btf::open();
  ASSERT_TRUE(k) << k.error().describe();
  auto info_id = k.value().find_struct("bpf_btf_info");
  if (!info_id || !k.value().member_index(*info_id, "kernel_btf"))
    GTEST_SKIP() << "this kernel's bpf_btf_info has no name/kernel_btf: BTF objects cannot be found by name";
  // vmlinux is itself a kernel BTF object; modules appear beside it when loaded.
  std::vector<std::string> wanted = {"vmlinux"};
  for (const auto& m : btf::module_names()) wanted.push_back(m);
  auto before = take_leftovers();
  {
    auto objs = btf::kernel_btf_objects(wanted);
    ASSERT_TRUE(objs) << objs.error().describe();
    EXPECT_EQ(objs.value().size(), wanted.size());
    for (const auto& [name, fd] : objs.value()) {
      bpf_btf_info info{};
      ASSERT_TRUE(sys::obj_info(fd.get(), info));
      EXPECT_TRUE(info.kernel_btf) << name;
    }
  }
  EXPECT_EQ(left_behind(before), "");
}

TEST_F(kfunc_fixture, PermissionErrorsAreNeverUnsupported) {
  prober p;
  for (const auto& e : p.context().enums().prog_types) p.prog_type(e.name);  // real verdicts first
  failing_command eperm(BPF_PROG_LOAD, EPERM);
  sys::scoped_syscalls guard(eperm);
  for (const char* name : {"bpf_rdonly_cast", "bpf_dynptr_size"}) {
    if (!kernel_has_func(name)) continue;
    verdict v = p.kfunc(name, "xdp");
    EXPECT_EQ(v.state, status::unknown) << name << ": " << v.reason;
    EXPECT_EQ(v.err, EPERM);
  }
}

// A prober keeps its catalog between queries, but no kernel object and no fd.
TEST_F(kfunc_fixture, TheProberHoldsNothingBetweenQueries) {
  prober p;
  auto before = take_leftovers();
  (void)p.kfunc("bpf_rdonly_cast");
  (void)p.kfunc("bpf_dynptr_size", "xdp");
  (void)p.kfunc("bpf_task_acquire", "ext");
  (void)p.iterator("task");
  (void)p.dynptr("skb");
  EXPECT_EQ(left_behind(before), "");
}

TEST_F(kfunc_fixture, ProbingLeavesNothingBehind) {
  auto before = take_leftovers();
  {
    prober p;
    auto s = section_for(p, {});
    EXPECT_FALSE(s.facts.empty() && !kernel_tagged_kfuncs().empty());
  }
  EXPECT_EQ(left_behind(before), "");
}

}  // namespace
}  // namespace bpfprobe::testing
