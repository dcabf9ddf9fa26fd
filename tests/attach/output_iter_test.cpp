// Output channels (ring buffer, perf event array) and iterator links, for real: a raw_tp program on
// task_rename writes a record per rename of this process and the channel delivers each one; a
// bpf_map_elem iterator with a map parameter visits every element.
#include <chrono>
#include <thread>

#include "common.hpp"

namespace bpfprobe::testing {
namespace {

constexpr std::int32_t marker = 0x5eed;

// raw_tp: if this process renamed itself, write the 8-byte marker through `path`'s helper.
program output_program(int map_fd, std::string_view path) {
  using namespace insn;
  program p;
  add(p, mov64_reg(r6, r1));  // keep the context for bpf_perf_event_output
  add(p, call_helper(BPF_FUNC_get_current_pid_tgid));
  add(p, alu64_imm(BPF_RSH, r0, 32));
  std::size_t skip = p.size();
  add(p, jmp_imm(BPF_JNE, r0, static_cast<std::int32_t>(::getpid()), 0));
  add(p, raw(BPF_ST | BPF_DW | BPF_MEM, r10, 0, -8, marker));
  if (path == decide::path::ringbuf) {
    add(p, ld_map_fd(r1, map_fd));
    add(p, mov64_reg(r2, r10));
    add(p, alu64_imm(BPF_ADD, r2, -8));
    add(p, mov64_imm(r3, 8));
    add(p, mov64_imm(r4, 0));
    add(p, call_helper(BPF_FUNC_ringbuf_output));
  } else {
    add(p, mov64_reg(r1, r6));
    add(p, ld_map_fd(r2, map_fd));
    add(p, mov32_imm(r3, -1));  // BPF_F_CURRENT_CPU, zero-extended
    add(p, mov64_reg(r4, r10));
    add(p, alu64_imm(BPF_ADD, r4, -8));
    add(p, mov64_imm(r5, 8));
    add(p, call_helper(BPF_FUNC_perf_event_output));
  }
  p[skip].off = static_cast<std::int16_t>(p.size() - skip - 1);
  add(p, mov64_imm(r0, 0));
  add(p, exit());
  return p;
}

class OutputChannel : public ::testing::TestWithParam<std::string> {};

TEST_P(OutputChannel, DeliversEveryRecord) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::output(facts(), "raw_tracepoint");
  BPFPROBE_REQUIRE_WANTED(want, choice, GetParam());
  auto tp = decide::tracepoint(facts());
  BPFPROBE_REQUIRE_PATH(tp, "raw_tp");

  std::vector<std::int64_t> records;
  attach::policy pol = forcing(GetParam());
  auto out = attach::output::open(
      choice,
      [&](std::span<const std::byte> r) {
        std::int64_t v = -1;
        if (r.size() >= sizeof(v)) std::memcpy(&v, r.data(), sizeof(v));
        records.push_back(v);
      },
      16 * 1024, pol);
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_EQ(out.value().path(), want);
  bpf_map_info info{};
  ASSERT_TRUE(sys::obj_info(out.value().map_fd(), info));
  EXPECT_EQ(info.type, want == decide::path::ringbuf ? BPF_MAP_TYPE_RINGBUF : BPF_MAP_TYPE_PERF_EVENT_ARRAY);

  auto prog = load({.type = BPF_PROG_TYPE_RAW_TRACEPOINT}, output_program(out.value().map_fd(), want));
  ASSERT_TRUE(prog) << describe(prog.error());
  auto a =
      attach::tracepoint(tp, {.raw_tp = prog.value().get()}, {"task", "task_rename"}, attach::policy::only("raw_tp"));
  ASSERT_TRUE(a) << a.error().describe();
  char saved[16] = {};
  ::prctl(PR_GET_NAME, saved);
  for (int i = 0; i < 3; ++i) ::prctl(PR_SET_NAME, "bpfprobe-out");
  ::prctl(PR_SET_NAME, saved);  // a fourth record
  for (int i = 0; i < 40 && records.size() < 4; ++i) {
    auto n = out.value().poll(50);
    ASSERT_TRUE(n) << n.error().describe();
  }
  EXPECT_EQ(records, std::vector<std::int64_t>(4, marker));
  EXPECT_EQ(out.value().lost(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Paths, OutputChannel, ::testing::Values("", "ringbuf", "perf_event_array"),
                         [](const auto& i) { return i.param.empty() ? std::string("chosen") : i.param; });

// A bpf_map_elem iterator over a 4-element array given as the link's map parameter.
TEST(IteratorAttach, VisitsEveryElementOfTheParameterMap) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::iterator(facts(), "bpf_map_elem");
  BPFPROBE_REQUIRE_PATH(choice, "iter_link");
  const auto* k = shared_prober().context().kernel_btf();
  ASSERT_NE(k, nullptr);
  auto target = k->find_func("bpf_iter_bpf_map_elem");
  ASSERT_TRUE(target);

  auto elems = sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4});
  ASSERT_TRUE(elems) << elems.error().describe();
  auto map = counter_map();
  // if (ctx->key) counter += 1  (ctx->key is the third pointer of struct bpf_iter__bpf_map_elem)
  using namespace insn;
  program p;
  add(p, ldx_mem(BPF_DW, r2, r1, 16));
  add(p, jmp_imm(BPF_JEQ, r2, 0, 0));
  std::size_t skip = p.size() - 1;
  program count = counting_program(map.get(), 0);
  p.insert(p.end(), count.begin(), count.end() - 2);  // without its own "r0 = 0; exit"
  p[skip].off = static_cast<std::int16_t>(p.size() - skip - 1);
  add(p, mov64_imm(r0, 0));
  add(p, exit());
  auto prog =
      load({.type = BPF_PROG_TYPE_TRACING, .expected_attach_type = BPF_TRACE_ITER, .attach_btf_id = *target}, p);
  ASSERT_TRUE(prog) << describe(prog.error());

  std::uint32_t link_id = 0;
  {
    auto a = attach::iterator(choice, prog.value().get(), {.map_fd = elems.value().get()});
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), "iter_link");
    auto info = sys::link_info(a.value().fd());
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info.value().type, BPF_LINK_TYPE_ITER);
    link_id = info.value().id;
    auto text = attach::read_all(a.value());
    ASSERT_TRUE(text) << text.error().describe();
    EXPECT_EQ(counter(map), 4u);
    ASSERT_TRUE(attach::read_all(a.value()));
    EXPECT_EQ(counter(map), 8u);
  }
  for (int i = 0; i < 200 && link_exists(link_id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(link_exists(link_id));
}

}  // namespace
}  // namespace bpfprobe::testing
