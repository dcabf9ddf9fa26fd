// The streaming JSON writer (report/json_writer.hpp) writes the bytes nlohmann's dump gives for the
// same document: strings with every escape and every kind of invalid UTF-8, nesting, empty
// containers, both indents, and the whole report.
#include <gtest/gtest.h>

#include <bpfprobe/report/json_writer.hpp>
#include <bpfprobe/report/render_json.hpp>
#include <nlohmann/json.hpp>
#include <random>

namespace bpfprobe::render {
namespace {

std::string theirs(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string mine(std::string_view s) {
  json_writer w(-1);
  w.string(s);
  return std::move(w).take();
}

TEST(JsonWriter, StringsAreEscapedAsNlohmannDoes) {
  for (std::string s :
       {std::string(""), std::string("plain"), std::string("q\"b\\s/"), std::string("\b\f\n\r\t"),
        std::string("\x01\x1f\x7f", 3), std::string("\0x", 2), std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
        std::string("\xC3"), std::string("\xC3(x"), std::string("\xE2\x82"), std::string("\xE2\x82("),
        std::string("\xC0\xAF"), std::string("\xE0\x80\xAF"), std::string("\xED\xA0\x80"),
        std::string("\xF4\x90\x80\x80"), std::string("\xF5\x80"), std::string("\xFF\xFE"), std::string("\x80\xBF"),
        std::string("\xF0\x9F\x98")})
    EXPECT_EQ(mine(s), theirs(s)) << nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

TEST(JsonWriter, RandomBytesAreEscapedAsNlohmannDoes) {
  std::mt19937 rng(20261207);
  const std::string alphabet =
      std::string("a\"\\\n\x01\x7f", 6) + "\x80\xBF\xC2\xC3\xDF\xE0\xE2\xED\xEF\xF0\xF4\xF5\xFF\xA0\x9F\x90\x8F";
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 12, ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(mine(s), theirs(s)) << "round " << round;
  }
}

TEST(JsonWriter, NestingAndEmptyContainersMatchBothIndents) {
  nlohmann::json j;
  j["b"] = nlohmann::json::object();
  j["a"] = nlohmann::json::array();
  j["c"] = {{"z", nullptr}, {"y", true}, {"x", 42}, {"w", nlohmann::json::array({"p", "q"})}};
  j["d"] = nlohmann::json::array({nlohmann::json::object(), nlohmann::json::array()});
  for (int indent : {-1, 0, 2, 4}) {
    json_writer w(indent);
    w.sorted_object({{"b", [](json_writer& o) { o.object([] {}); }},
                     {"a", [](json_writer& o) { o.array([] {}); }},
                     {"c",
                      [](json_writer& o) {
                        o.sorted_object({{"z", [](json_writer& x) { x.null(); }},
                                         {"y", [](json_writer& x) { x.boolean(true); }},
                                         {"x", [](json_writer& x) { x.number(42); }},
                                         {"w", [](json_writer& x) {
                                            x.strings({"p", "q"});
                                          }}});
                      }},
                     {"d", [](json_writer& o) {
                        o.array([&] {
                          o.element(), o.object([] {});
                          o.element(), o.array([] {});
                        });
                      }}});
    EXPECT_EQ(std::move(w).take(), theirs(j, indent)) << indent;
  }
}

TEST(JsonWriter, ALaterValueOfAKeyWins) {
  json_writer w(-1);
  w.sorted_object({{"k", [](json_writer& o) { o.number(1); }}, {"k", [](json_writer& o) { o.number(2); }}});
  EXPECT_EQ(std::move(w).take(), R"({"k":2})");
}

// A report with hostile text everywhere: parsed by nlohmann and dumped again, it is the same bytes.
TEST(JsonWriter, TheReportIsWhatNlohmannWouldWrite) {
  report r;
  r.kernel.release = "6.1.0-\xFF\"evil\"\n";
  r.kernel.jit_limit = 1LL << 40;
  r.names_source = "kernel BTF";
  r.kfuncs_undecided = 2;
  r.kfuncs_undecided_reason = "EPERM\t";
  fact f{"xdp", verdict::no("verifier said: a|b <x>", EINVAL, "R1 invalid\x01 mem access"), "4.8", "6a773a15a1e8"};
  f.attrs = {{"value", "6"}, {"status", "overridden"}};
  f.lists = {{"attach_types", {"xdp", "xdp_devmap"}}, {"empty", {}}};
  r.program_types = {f, {"socket_filter", verdict::yes()}, {"kprobe", verdict::unknown("not permitted", EPERM)}};
  r.helpers = {{"xdp", {{"bpf_redirect", verdict::yes()}}}, {"kprobe", {}}};
  r.more = {{"kfuncs", {{"bpf_rdonly_cast", verdict::yes()}}}, {"links", {}}};
  r.compat = {{"dynptr_size", "raw_tracepoint", "unavailable", {{"kfunc", verdict::no("x", ENOENT, "ev")}}}};
  attach_choice a{"xdp", {{"bpf_link", verdict::unknown("EPERM", EPERM), {"link:xdp"}}}, "", {{"target", "lo"}}};
  r.attach = {a};
  for (int indent : {-1, 2}) {
    auto out = json(r, indent);
    EXPECT_EQ(out, theirs(nlohmann::json::parse(out), indent)) << indent;
    auto b = bpftool_json(r, indent);
    EXPECT_EQ(b, nlohmann::ordered_json::parse(b).dump(indent)) << indent;
  }
  auto j = nlohmann::json::parse(json(r));
  EXPECT_EQ(j["program_types"]["xdp"]["status"], "overridden") << "an attr named like a field overwrote it before";
  EXPECT_EQ(j["kernel"]["release"], "6.1.0-\xEF\xBF\xBD\"evil\"\n");
  EXPECT_EQ(j["kernel"]["jit"]["limit"], 1LL << 40);
}

}  // namespace
}  // namespace bpfprobe::render
