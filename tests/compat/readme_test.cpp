// README.md's compat guide: the application there builds with bpfprobe_add_bpf_object, configures,
// loads, and reads its parent's tgid through the accessor (run here with BPF_PROG_TEST_RUN, in
// this thread, rather than on a real exec that any process on the machine could cause).
#include <unistd.h>

#include "compat_test.hpp"
// The skeleton after the test helpers, as in the other tests.
#include "compat_readme_app.skel.h"

using namespace compat_test;

namespace {

TEST(CompatReadme, GuideApplicationWorks) {
  auto* skel = compat_readme_app::open();
  ASSERT_TRUE(skel);
  std::unique_ptr<compat_readme_app, void (*)(compat_readme_app*)> owner(skel, compat_readme_app::destroy);
  auto sel = compat::configure(shared_prober(), skel);
  ASSERT_TRUE(sel) << sel.error().describe();
  std::string text = compat::to_string(sel.value());
  EXPECT_NE(text.find("current_task"), std::string::npos) << text;
  ASSERT_EQ(compat_readme_app::load(skel), 0);
  EXPECT_TRUE(test_run(skel->progs.on_exec));
  EXPECT_EQ(skel->bss->parent, static_cast<std::uint32_t>(getppid()));
}

}  // namespace
