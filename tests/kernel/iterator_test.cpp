// Iterators on the running kernel: every seq_file target of its BTF is reported; each one the
// report calls supported is read once more here; open-coded and callback iteration really loop.
#include <gtest/gtest.h>

#include <bpfprobe/catalog/iterators.hpp>
#include <bpfprobe/prober/prober.hpp>

#include "kfunc_support.hpp"
#include "run.hpp"

namespace bpfprobe::testing {
namespace {

struct iterator_fixture : kernel_btf_test {
  static std::vector<std::string> kfunc_names(prober& p) {
    std::vector<std::string> out;
    for (auto id : p.context().kernel_btf()->tagged_funcs("bpf_kfunc"))
      out.emplace_back(p.context().kernel_btf()->name_of(id));
    return out;
  }
  static section iterators(prober& p) {
    return probe::iterator_section(
        p.context(), kfunc_names(p), [&](std::string_view n) { return p.kfunc(n); }, 0);
  }
};

TEST_F(iterator_fixture, EveryTargetIsReportedAndEachSupportedOneReadsOnce) {
  auto targets = kernel_iter_targets();
  ASSERT_FALSE(targets.empty()) << "kernel BTF has no bpf_iter__ targets";
  prober p;
  auto s = iterators(p);
  auto before = take_leftovers();
  for (const auto& t : targets) {
    const fact* f = find(s, t);
    ASSERT_NE(f, nullptr) << "iterator target " << t << " missing";
    EXPECT_EQ(*attr(*f, "kind"), "seq_file");
    EXPECT_NE(f->v.state, status::unsupported) << t << ": the target is in BTF: " << f->v.reason;
    if (!f->v.supported()) {
      EXPECT_FALSE(f->v.reason.empty());
      continue;
    }
    auto id = p.context().kernel_btf()->find_func("bpf_iter_" + t);
    ASSERT_TRUE(id);
    probe::iter_read r = probe::read_iterator_once(p.context(), {t, *id});
    ASSERT_TRUE(r.v.supported()) << t << ": " << r.v.reason;
    EXPECT_GE(r.bytes, 0) << t;
    // One byte per element: targets that surely have elements show them.
    if (t == "bpf_map_elem") {
      EXPECT_GE(r.bytes, 2) << "two array elements";
    }
    if (t == "task" || t == "task_file" || t == "bpf_map" || t == "bpf_prog" || t == "ksym") {
      EXPECT_GE(r.bytes, 1) << t;
    }
    if (t == "task" && r.params.starts_with("tid")) {
      EXPECT_NE(r.params.find(std::to_string(getpid())), std::string::npos);
    }
  }
  EXPECT_EQ(left_behind(before), "");
}

TEST_F(iterator_fixture, OpenCodedAndCallbackIterationLoop) {
  prober p;
  auto s = iterators(p);
  auto names = kfunc_names(p);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  for (const auto& family : probe::open_coded_families(names)) {
    const fact* f = find(s, family);
    ASSERT_NE(f, nullptr) << family;
    EXPECT_EQ(*attr(*f, "kind"), "open_coded");
    EXPECT_NE(f->v.state, status::unsupported) << family << ": " << f->v.reason;
  }
  if (has("bpf_iter_num_new")) {
    const fact* f = find(s, "bpf_iter_num");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->v.state, status::supported) << f->v.reason;
    if (p.context().prog_type("syscall")) {
      EXPECT_NE(f->v.evidence.find("test run returned 3"), std::string::npos) << f->v.evidence;
    }
  }
  auto helpers = kernel_enum("bpf_func_id", "BPF_FUNC_");
  for (auto [helper, expect] :
       {std::pair{"bpf_loop", "returned 3"}, std::pair{"bpf_for_each_map_elem", "returned 2"}}) {
    const fact* f = find(s, helper);
    ASSERT_NE(f, nullptr) << helper;
    EXPECT_EQ(*attr(*f, "kind"), "callback");
    if (std::find(helpers.begin(), helpers.end(), std::string(helper).substr(4)) == helpers.end()) {
      EXPECT_EQ(f->v.state, status::unsupported) << helper;
      continue;
    }
    EXPECT_EQ(f->v.state, status::supported) << helper << ": " << f->v.reason << " [" << f->v.evidence << "]";
    if (p.context().prog_type("syscall")) {
      EXPECT_NE(f->v.evidence.find(expect), std::string::npos) << f->v.evidence;
    }
  }
  // Lazy queries.
  EXPECT_EQ(p.iterator("bpf_loop").state, find(s, "bpf_loop")->v.state);
  if (find(s, "task")) {
    EXPECT_EQ(p.iterator("task").state, find(s, "task")->v.state);
  }
  EXPECT_EQ(p.iterator("no_such_target").state, status::unsupported);
}

TEST_F(iterator_fixture, PermissionErrorsAreUnknown) {
  prober p;
  // bpf_loop (5.17) missing from the kernel's enum bpf_func_id is unsupported without any load.
  const bool kernel_has_bpf_loop = p.iterator("bpf_loop").supported();
  failing_command eperm(BPF_PROG_LOAD, EPERM);
  sys::scoped_syscalls guard(eperm);
  for (const auto& t : probe::iterator_targets(*p.context().kernel_btf())) {
    verdict v = probe::read_iterator_once(p.context(), t).v;
    EXPECT_EQ(v.state, status::unknown) << t.name << ": " << v.reason;
  }
  EXPECT_EQ(probe::probe_callback_iteration(p.context(), "bpf_loop").state,
            kernel_has_bpf_loop ? status::unknown : status::unsupported);
}

// The CLI's JSON report lists every kfunc the BTF tags, every iterator target, the open-coded
// iterators and the dynptr facts, each with a status (and a reason unless supported).
TEST_F(iterator_fixture, JsonReportListsTheExtendedSections) {
  auto r = run({cli_path(), "--report", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* section : {"kfuncs", "dynptr", "iterators"}) {
    ASSERT_TRUE(j.contains(section)) << section;
    for (const auto& [name, fact] : j[section].items()) {
      std::string st = fact.at("status");
      EXPECT_TRUE(st == "supported" || st == "unsupported" || st == "unknown") << section << "/" << name;
      if (st != "supported") {
        EXPECT_FALSE(fact.value("reason", "").empty()) << section << "/" << name;
      }
      EXPECT_FALSE(fact.value("evidence", "").empty() && fact.value("reason", "").empty()) << section << "/" << name;
    }
  }
  for (const auto& [name, module] : kernel_tagged_kfuncs()) {
    ASSERT_TRUE(j["kfuncs"].contains(name)) << name;
    EXPECT_EQ(j["kfuncs"][name]["module"], module);
  }
  for (const auto& t : kernel_iter_targets()) {
    EXPECT_TRUE(j["iterators"].contains(t)) << t;
  }
  for (const auto& k : kernel_enum("bpf_dynptr_type", "BPF_DYNPTR_TYPE_"))
    if (k != "invalid") {
      EXPECT_TRUE(j["dynptr"].contains(k)) << k;
    }
  if (kernel_has_func("bpf_iter_num_new")) {
    EXPECT_TRUE(j["iterators"].contains("bpf_iter_num"));
  }
}

}  // namespace
}  // namespace bpfprobe::testing
