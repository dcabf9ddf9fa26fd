// --btf with a BTF file that lacks some of the enums: names come from the file where it has them and
// from the built-in tables where it does not, and the report says so.
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <set>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

std::set<std::string> keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

// Raw BTF with `enum bpf_prog_type` {UNSPEC, SOCKET_FILTER, XDP} and `enum bpf_map_type`
// {UNSPEC, HASH, ARRAY}, and no `enum bpf_func_id`, `bpf_attach_type` or `bpf_link_type`.
std::string btf_without_helpers() {
  struct btf* b = btf__new_empty();
  btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  btf__add_enum(b, "bpf_prog_type", 4);
  btf__add_enum_value(b, "BPF_PROG_TYPE_UNSPEC", 0);
  btf__add_enum_value(b, "BPF_PROG_TYPE_SOCKET_FILTER", 1);
  btf__add_enum_value(b, "BPF_PROG_TYPE_XDP", 6);
  btf__add_enum(b, "bpf_map_type", 4);
  btf__add_enum_value(b, "BPF_MAP_TYPE_UNSPEC", 0);
  btf__add_enum_value(b, "BPF_MAP_TYPE_HASH", 1);
  btf__add_enum_value(b, "BPF_MAP_TYPE_ARRAY", 2);
  __u32 size = 0;
  const void* raw = btf__raw_data(b, &size);
  std::string out(static_cast<const char*>(raw), size);
  btf__free(b);
  return out;
}

TEST(BtfFallback, MissingEnumsComeFromBuiltInTables) {
  temp_dir dir;
  std::string data = btf_without_helpers();
  auto path = dir / "no-helpers.btf";
  write_file(path, data.data(), data.size());

  auto r = run_cli({"--json", "--btf", path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  auto report = nlohmann::json::parse(r.out);
  const auto& k = report["kernel"];
  EXPECT_EQ(k["names_from_btf"], false);
  std::string source = k["names_source"];
  EXPECT_NE(source.find(path.string()), std::string::npos) << source;
  EXPECT_NE(source.find("built-in"), std::string::npos) << source;
  EXPECT_NE(source.find("bpf_func_id"), std::string::npos) << source;
  EXPECT_EQ(source.find("bpf_prog_type"), std::string::npos) << "prog types did come from the file: " << source;

  // Program and map types are exactly the file's; helpers are the built-in table's.
  EXPECT_EQ(keys(report["program_types"]), (std::set<std::string>{"socket_filter", "xdp"}));
  EXPECT_EQ(keys(report["map_types"]), (std::set<std::string>{"hash", "array"}));
  EXPECT_EQ(keys(report["helpers"]), (std::set<std::string>{"socket_filter", "xdp"}));
  const auto& helpers = report["helpers"]["socket_filter"];
  EXPECT_GT(helpers.size(), 100u);
  for (const char* h : {"bpf_map_lookup_elem", "bpf_trace_printk", "bpf_redirect", "bpf_ringbuf_output"})
    EXPECT_TRUE(helpers.contains(h)) << h;
  // The probes still ran against the running kernel with those names.
  if (is_root()) {
    EXPECT_EQ(report["program_types"]["socket_filter"]["status"], "supported");
    EXPECT_EQ(helpers["bpf_map_lookup_elem"]["status"], "supported");
    EXPECT_EQ(report["helpers"]["xdp"]["bpf_redirect"]["status"], "supported");
  }
}

TEST(BtfFallback, FileWithNoEnumsAtAllUsesEveryBuiltInTable) {
  temp_dir dir;
  struct btf* b = btf__new_empty();
  btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  __u32 size = 0;
  const void* raw = btf__raw_data(b, &size);
  write_file(dir / "int-only.btf", raw, size);
  btf__free(b);

  auto report = cli_json({"--btf", (dir / "int-only.btf").string()});
  EXPECT_EQ(report["kernel"]["names_from_btf"], false);
  std::string source = report["kernel"]["names_source"];
  for (const char* e : {"bpf_prog_type", "bpf_map_type", "bpf_func_id"})
    EXPECT_NE(source.find(e), std::string::npos) << source;
  EXPECT_TRUE(report["program_types"].contains("socket_filter"));
  EXPECT_TRUE(report["map_types"].contains("ringbuf"));
  EXPECT_TRUE(report["helpers"]["socket_filter"].contains("bpf_map_lookup_elem"));
}

}  // namespace
}  // namespace bpfprobe::testing
