// The JSON report names every program type, map type and helper of the running kernel's BTF enums
// (read here independently with libbpf), each with a tri-state status, and keeps the JSON contract.
#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

constexpr const char* vmlinux = "/sys/kernel/btf/vmlinux";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Names of `enum <name>` with `prefix` stripped, lower-cased; UNSPEC, __MAX* and *_DEPRECATED skipped.
std::set<std::string> enum_names(const struct btf* b, const char* name, const std::string& prefix) {
  std::set<std::string> out;
  int id = btf__find_by_name_kind(b, name, BTF_KIND_ENUM);
  if (id <= 0) id = btf__find_by_name_kind(b, name, BTF_KIND_ENUM64);
  if (id <= 0) return out;
  const btf_type* t = btf__type_by_id(b, static_cast<__u32>(id));
  for (unsigned i = 0; i < btf_vlen(t); ++i) {
    __u32 off = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
    std::string n = btf__name_by_offset(b, off);
    if (n.rfind(prefix, 0) != 0) continue;  // __BPF_FUNC_MAX_ID, __MAX_BPF_PROG_TYPE, ...
    n = lower(n.substr(prefix.size()));
    if (n == "unspec" || n.find("deprecated") != std::string::npos) continue;
    out.insert(n);
  }
  return out;
}

struct kernel_enums {
  std::set<std::string> prog_types, map_types, helpers;
};

kernel_enums read_enums() {
  kernel_enums e;
  struct btf* b = btf__parse(vmlinux, nullptr);
  if (!b) return e;
  e.prog_types = enum_names(b, "bpf_prog_type", "BPF_PROG_TYPE_");
  e.map_types = enum_names(b, "bpf_map_type", "BPF_MAP_TYPE_");
  for (const auto& h : enum_names(b, "bpf_func_id", "BPF_FUNC_")) e.helpers.insert("bpf_" + h);
  btf__free(b);
  return e;
}

const std::set<std::string> statuses = {"supported", "unsupported", "unknown"};

// status is one of the three, and a non-empty reason accompanies every non-supported one.
void expect_fact(const nlohmann::json& f, const std::string& where) {
  ASSERT_TRUE(f.is_object()) << where;
  ASSERT_TRUE(f.contains("status") && f["status"].is_string()) << where << ": no status";
  std::string s = f["status"];
  EXPECT_TRUE(statuses.count(s)) << where << ": status '" << s << "'";
  if (s != "supported") {
    EXPECT_TRUE(f.contains("reason") && f["reason"].is_string() && !f["reason"].get<std::string>().empty())
        << where << ": " << s << " without a reason";
  }
}

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(vmlinux)) GTEST_SKIP() << "kernel has no BTF (" << vmlinux << ")";
    enums_ = read_enums();
    ASSERT_FALSE(enums_.prog_types.empty());
    ASSERT_FALSE(enums_.map_types.empty());
    ASSERT_FALSE(enums_.helpers.empty());
    report_ = cli_json();
  }
  kernel_enums enums_;
  nlohmann::json report_;
};

// The report's `section` has a well-formed fact for every name the kernel's BTF lists, and
// nothing invented either.
template <class Names>
void expect_exactly(const nlohmann::json& report, const std::string& section, const Names& names,
                    const std::string& what) {
  const auto& s = report.at(section);
  for (const auto& name : names) {
    ASSERT_TRUE(s.contains(name)) << what << " " << name << " missing";
    expect_fact(s[name], section + "/" + name);
  }
  for (const auto& [name, f] : s.items()) EXPECT_TRUE(names.count(name)) << "extra " << what << " " << name;
}

TEST_F(Report, EveryProgramTypeOfTheKernelsBtf) {
  expect_exactly(report_, "program_types", enums_.prog_types, "program type");
}

TEST_F(Report, EveryMapTypeOfTheKernelsBtf) { expect_exactly(report_, "map_types", enums_.map_types, "map type"); }

TEST_F(Report, EveryHelperForEveryProgramType) {
  const auto& h = report_.at("helpers");
  for (const auto& type : enums_.prog_types) {
    ASSERT_TRUE(h.contains(type)) << "helpers of " << type << " missing";
    const auto& per_type = h[type];
    for (const auto& helper : enums_.helpers) {
      ASSERT_TRUE(per_type.contains(helper)) << "helpers/" << type << "/" << helper << " missing";
      expect_fact(per_type[helper], "helpers/" + type + "/" + helper);
    }
    EXPECT_EQ(per_type.size(), enums_.helpers.size()) << "helpers of " << type << " not from the kernel's enum";
  }
}

TEST_F(Report, SomethingIsSupportedInEachCoreSection) {
  // A report where nothing is supported would pass the checks above; as root it must not happen.
  if (!is_root()) GTEST_SKIP() << "needs root";
  EXPECT_EQ(report_["program_types"]["socket_filter"]["status"], "supported");
  EXPECT_EQ(report_["map_types"]["array"]["status"], "supported");
  EXPECT_EQ(report_["helpers"]["socket_filter"]["bpf_map_lookup_elem"]["status"], "supported");
}

TEST_F(Report, EveryFactInEverySectionIsTriState) {
  auto facts = all_facts(report_);
  EXPECT_GT(facts.size(), enums_.helpers.size());
  for (const auto& [where, f] : facts) expect_fact(*f, where);
}

TEST_F(Report, KernelSectionFollowsTheContract) {
  ASSERT_TRUE(report_.contains("kernel"));
  const auto& k = report_["kernel"];
  for (const char* key :
       {"release", "btf", "unprivileged_bpf_disabled", "jit", "lockdown", "names_source", "names_from_btf"})
    EXPECT_TRUE(k.contains(key)) << "kernel." << key;
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(k["release"], u.release);
  EXPECT_EQ(k["btf"], vmlinux);
  EXPECT_EQ(k["names_from_btf"], true);
  EXPECT_EQ(k["names_source"], vmlinux);
  std::ifstream unpriv("/proc/sys/kernel/unprivileged_bpf_disabled");
  int value = -1;
  if (unpriv >> value) {
    EXPECT_EQ(k["unprivileged_bpf_disabled"], value);
  }
  EXPECT_TRUE(k["jit"].is_object());
  std::ifstream lockdown("/sys/kernel/security/lockdown");
  std::string line;
  if (std::getline(lockdown, line)) {
    auto open = line.find('['), close = line.find(']');
    ASSERT_NE(open, std::string::npos);
    EXPECT_EQ(k["lockdown"], line.substr(open + 1, close - open - 1));
  }
  for (const char* section : {"program_types", "map_types", "helpers", "misc"})
    EXPECT_TRUE(report_.contains(section) && report_[section].is_object()) << section;
}

}  // namespace
}  // namespace bpfprobe::testing
