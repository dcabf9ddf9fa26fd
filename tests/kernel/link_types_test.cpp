// Every link type the report calls supported is created here, by the test itself through libbpf's
// low-level API on its own targets, and the kernel's link list (BPF_LINK_GET_NEXT_ID + link info)
// shows it with the right type while it is held and without it afterwards. Types the report calls
// unsupported or unknown are skipped with the report's reason.
#include <sys/wait.h>

#include <set>

#include "../common/pin_dir.hpp"
#include "link_makers.hpp"
#include "run.hpp"

namespace bpfprobe::testing {
namespace {

// The report's links section (from the CLI, once).
const nlohmann::json& report_links() {
  static const nlohmann::json links = [] { return cli_json().at("links"); }();
  return links;
}

// A link type of the catalog without a maker here, or a maker for no link type, fails: adding a link
// type is its row (catalog/links.hpp), its TSV row and its maker.
TEST(LinkCatalog, EveryLinkRowHasAMaker) {
  std::set<std::string, std::less<>> rows;
  for (const auto& r : probe::link_rows) rows.insert(std::string(r.link_type));
  for (const auto& type : rows) EXPECT_TRUE(makers().contains(type)) << type << " has no maker in this test";
  for (const auto& [type, make_one] : makers()) EXPECT_TRUE(rows.contains(type)) << type << " has no probe row";
}

class LinkType : public ::testing::TestWithParam<std::string> {};

TEST_P(LinkType, ReportedSupportedMeansTheTestCanCreateIt) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  const std::string type = GetParam();
  const auto& links = report_links();
  ASSERT_TRUE(links.contains(type)) << "the report lists every bpf_link_type of the kernel's BTF";
  const auto& f = links.at(type);
  if (f.at("status") != "supported")
    GTEST_SKIP() << type << " is " << f.at("status").get<std::string>() << " here: " << f.value("reason", "");
  auto value = btf::kernel_enums::value_of(kernel().enums().link_types, type);
  ASSERT_TRUE(value);

  std::uint32_t held = 0;
  bool known = make(type, [&](const made& m) {
    held = link_id(m.link.get());
    ASSERT_NE(held, 0u);
    auto seen = kernel_link(held);
    ASSERT_TRUE(seen) << "link " << held << " is not in the kernel's link list";
    EXPECT_EQ(seen->type, *value) << "link type";
    if (m.prog_id) {
      EXPECT_EQ(seen->prog_id, m.prog_id);
    }
    if (m.map_id) {
      EXPECT_EQ(seen->struct_ops.map_id, m.map_id);
    }
  });
  ASSERT_TRUE(known) << "the report says " << type << " is supported but this test has no way to make one";
  ASSERT_NE(held, 0u);
  EXPECT_TRUE(eventually([&] { return !kernel_link(held); })) << "link " << held << " outlived its fd";
}

std::vector<std::string> link_type_names() {
  std::vector<std::string> out;
  for (const auto& e : kernel().enums().link_types) out.push_back(e.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Kernel, LinkType, ::testing::ValuesIn(link_type_names()),
                         [](const auto& info) { return info.param; });

TEST(LinkReport, AttachTypeListsNameKernelAttachTypes) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  const auto& ctx = kernel();
  for (const auto& [type, f] : report_links().items()) {
    ASSERT_TRUE(f.contains("status")) << type;
    for (const char* key : {"attach_types", "attach_types_unsupported", "attach_types_unknown"}) {
      if (!f.contains(key)) continue;
      for (const auto& a : f.at(key)) {
        bool defined = ctx.attach_type(a.get<std::string>()).has_value();
        // An attach type the kernel lacks can only be listed as unsupported.
        if (std::string(key) != "attach_types_unsupported") {
          EXPECT_TRUE(defined) << type << ": " << a;
        }
      }
    }
    // A supported link type names at least one working attach type, unless it works only through
    // an API that takes none.
    if (f.at("status") == "supported" && f.contains("attach_types")) {
      EXPECT_FALSE(f.at("attach_types").empty()) << type;
    }
  }
}

// The link_pin fact, checked independently: a child pins a link and exits; the pin keeps the link.
TEST(LinkPin, PinnedLinkOutlivesTheProcessThatMadeIt) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto bpffs = pin_dir::open();
  ASSERT_TRUE(bpffs) << bpffs.error().describe();
  auto prog = libbpf_prog(BPF_PROG_TYPE_RAW_TRACEPOINT);
  expect_ok(prog, "raw_tracepoint prog");
  sys::scoped_pin pin(bpffs.value().path() + "/link-test-" + std::to_string(getpid()));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = bpf_raw_tracepoint_open(tracepoint_name().c_str(), prog.get());
    _exit(fd >= 0 && bpf_obj_pin(fd, pin.path().c_str()) == 0 ? 0 : 1);
  }
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child could not pin a link";
  sys::unique_fd back(bpf_obj_get(pin.path().c_str()));
  ASSERT_TRUE(back.valid()) << std::strerror(errno);
  std::uint32_t id = link_id(back.get());
  ASSERT_TRUE(kernel_link(id));
  EXPECT_EQ(kernel_link(id)->prog_id, prog_id(prog.get()));
  // The report agrees.
  auto mech = cli_json().at("attach_mechanisms").at("link_pin");
  EXPECT_EQ(mech.at("status"), "supported") << mech.dump();
  ASSERT_EQ(unlink(pin.path().c_str()), 0);
  back.reset();
  EXPECT_TRUE(eventually([&] { return !kernel_link(id); })) << "unpinned, closed link still listed";
}

}  // namespace
}  // namespace bpfprobe::testing
