// The kernel snapshot reader on hostile input (no kernel needed): a small snapshot made from BTF built
// here, then cut at every byte, its lengths flipped, a zstd bomb, wrong magic and versions, and bad
// section contents. Each must give one error line, never a crash, a hang or a huge allocation.
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <bpfprobe/check/snapshot.hpp>
#include <bpfprobe/check/snapshot_write.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace bpfprobe::snapshot {
namespace {

std::string raw_of(const struct btf* b) {
  __u32 size = 0;
  const void* data = btf__raw_data(b, &size);
  return std::string(static_cast<const char*>(data), size);
}

contents small() {
  contents c;
  c.meta = {{"bpfprobe_version", "0.1.0"},
            {"caps_effective", "000001ffffffffff"},
            {"catalog", "test"},
            {"config_source", "/proc/config.gz"},
            {"euid", "0"},
            {"kallsyms", "listed"},
            {"kallsyms_addresses", "visible"},
            {"kallsyms_data_symbols", "0"},
            {"lockdown", "none [integrity]"},
            {"machine", "x86_64"},
            {"release", "6.1.0-test"},
            {"unprivileged_bpf_disabled", "2"},
            {"version", "#1 SMP"},
            {"vmlinux_btf", "present"}};
  c.verdicts = {{"helpers", "xdp/bpf_redirect", verdict::yes("loaded")},
                {"map_types", "arena", verdict::no("kernel does not know it", 22, "EINVAL")},
                {"program_types", "xdp", verdict::yes("loaded")},
                {"program_types", "lsm", verdict::unknown("not permitted", 1, "")}};
  std::sort(c.verdicts.begin(), c.verdicts.end());
  c.report_json = R"({"kernel": {}})";
  struct btf* base = btf__new_empty();
  int i = btf__add_int(base, "int", 4, BTF_INT_SIGNED);
  int s = btf__add_struct(base, "task_struct", 8);
  btf__add_field(base, "pid", i, 0, 0);
  btf__add_field(base, "tgid", i, 32, 0);
  btf__add_func_proto(base, i);
  c.vmlinux_btf = raw_of(base);
  struct btf* mod = btf__new_empty_split(base);
  btf__add_struct(mod, "nf_conn", 4);
  btf__add_field(mod, "mark", i, 0, 0);
  c.module_btf["nf_conntrack"] = raw_of(mod);
  btf__free(mod);
  btf__free(base);
  (void)s;
  c.kallsyms = {"bpf_prog_put", "do_unlinkat", "vfs_read"};
  c.config = {{"CONFIG_BPF", "y"}, {"CONFIG_HZ", "250"}};
  return c;
}

std::string good() {
  auto bytes = serialize(small());
  EXPECT_TRUE(bytes);
  return bytes.value_or("");
}

// A section's place in a file: where its header and its stored bytes start.
struct place {
  std::uint32_t id;
  std::size_t header, data, stored;
};

std::vector<place> places(const std::string& f) {
  std::vector<place> out;
  std::size_t at = header_size;
  std::uint32_t n = static_cast<std::uint32_t>(detail::get_le(std::string_view(f).substr(12, 4), 4));
  for (std::uint32_t i = 0; i < n; ++i) {
    place p{static_cast<std::uint32_t>(detail::get_le(std::string_view(f).substr(at, 4), 4)), at,
            at + section_header_size,
            static_cast<std::size_t>(detail::get_le(std::string_view(f).substr(at + 16, 8), 8))};
    out.push_back(p);
    at = p.data + p.stored;
  }
  return out;
}

void put(std::string& f, std::size_t at, std::uint64_t v, int bytes) {
  std::string b;
  detail::put_le(b, v, bytes);
  f.replace(at, static_cast<std::size_t>(bytes), b);
}

// The one error line; `mention` must be in it.
std::string expect_error(const std::string& bytes, const std::string& what, const std::string& mention = {}) {
  auto r = kernel_snapshot::parse(bytes);
  const auto* e = std::get_if<std::string>(&r);
  EXPECT_NE(e, nullptr) << what << ": accepted";
  if (!e) return {};
  EXPECT_FALSE(e->empty()) << what;
  EXPECT_TRUE(std::all_of(e->begin(), e->end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; }))
      << what << ": not one printable line: " << *e;
  if (!mention.empty()) {
    EXPECT_NE(e->find(mention), std::string::npos) << what << ": " << *e;
  }
  return *e;
}

TEST(SnapshotFormat, RoundTripsEverySection) {
  auto c = small();
  auto bytes = good();
  auto r = kernel_snapshot::parse(bytes);
  ASSERT_TRUE(std::holds_alternative<kernel_snapshot>(r)) << std::get<std::string>(r);
  const auto& s = std::get<kernel_snapshot>(r);
  EXPECT_EQ(s.release(), "6.1.0-test");
  EXPECT_EQ(s.machine(), "x86_64");
  EXPECT_EQ(s.meta().size(), c.meta.size());
  ASSERT_EQ(s.verdicts().size(), c.verdicts.size());
  auto xdp = s.verdict_of(std::get<fact_key>(fact_key::parse("prog:xdp")));
  ASSERT_TRUE(xdp);
  EXPECT_EQ(xdp->state, status::supported);
  auto arena = s.verdict_of(std::get<fact_key>(fact_key::parse("map:arena")));
  ASSERT_TRUE(arena);
  EXPECT_EQ(arena->state, status::unsupported);
  EXPECT_EQ(arena->err, 22);
  EXPECT_EQ(arena->evidence, "EINVAL");
  auto lsm = s.verdict_of("program_types", "lsm");
  ASSERT_TRUE(lsm);
  EXPECT_EQ(lsm->state, status::unknown);
  auto helper = s.verdict_of(std::get<fact_key>(fact_key::parse("helper:xdp:bpf_redirect")));
  ASSERT_TRUE(helper);
  EXPECT_EQ(helper->state, status::supported);
  EXPECT_FALSE(s.verdict_of(std::get<fact_key>(fact_key::parse("prog:tracing"))));
  ASSERT_NE(s.vmlinux_btf(), nullptr);
  EXPECT_EQ(btf__type_cnt(s.vmlinux_btf()), 4u);
  EXPECT_GT(btf__find_by_name_kind(s.vmlinux_btf(), "task_struct", BTF_KIND_STRUCT), 0);
  const struct btf* mod = s.module_btf("nf_conntrack");
  ASSERT_NE(mod, nullptr);
  EXPECT_GT(btf__find_by_name_kind(mod, "nf_conn", BTF_KIND_STRUCT), 0);
  EXPECT_GT(btf__find_by_name_kind(mod, "task_struct", BTF_KIND_STRUCT), 0);  // through the base
  EXPECT_TRUE(s.kallsyms().readable);
  EXPECT_FALSE(s.data_symbols_listed());
  EXPECT_EQ(s.kallsyms().names.size(), 3u);
  EXPECT_TRUE(s.kallsyms().names.contains("do_unlinkat"));
  EXPECT_EQ(s.config().source, "/proc/config.gz");
  EXPECT_EQ(s.config().values.at("CONFIG_HZ"), "250");
  EXPECT_EQ(s.report_json(), c.report_json);
  EXPECT_EQ(serialize(c), bytes) << "the same contents serialize to the same bytes";
}

// Debian's arm64 kallsyms lists compiler-local labels with control bytes: the writer leaves them out
// (the reader refuses them), and still drops what comes and goes ([bpf], ftrace trampolines).
TEST(SnapshotWrite, KallsymsNamesAreOnlyWhatTheReaderTakes) {
  std::istringstream in(
      "ffff800080000000 T _text\n"
      "ffff800080010000 t .L14472\x02"
      "1\n"
      "ffff800080020000 t do_sys_open\n"
      "ffff800080030000 t bpf_prog_6deef7357e7b4530_x\t[bpf]\n");
  auto s = write_detail::read_kallsyms(in);
  EXPECT_EQ(s.names, (std::vector<std::string>{"_text", "do_sys_open"}));
  EXPECT_TRUE(s.readable);
  EXPECT_FALSE(
      storable_symbol(".L14472\x02"
                      "1"));
  EXPECT_TRUE(storable_symbol("do_sys_open.isra.0"));
}

TEST(SnapshotFormat, EveryTruncationIsAnError) {
  auto bytes = good();
  for (std::size_t n = 0; n < bytes.size(); ++n) expect_error(bytes.substr(0, n), "cut at " + std::to_string(n));
  // At every section boundary the message names what is missing.
  for (const auto& p : places(bytes)) {
    expect_error(bytes.substr(0, p.header), "cut before " + std::string(section_name(p.id)));
    expect_error(bytes.substr(0, p.data), "cut after the header of " + std::string(section_name(p.id)),
                 std::string(section_name(p.id)));
  }
  expect_error(bytes + "x", "a byte after the last section", "after the last section");
}

TEST(SnapshotFormat, FlippedLengthsAreErrors) {
  auto bytes = good();
  for (const auto& p : places(bytes)) {
    std::string name(section_name(p.id));
    std::uint64_t raw = detail::get_le(std::string_view(bytes).substr(p.header + 8, 8), 8);
    for (std::uint64_t v :
         {raw + 1, raw - 1, std::uint64_t{0}, raw * 2 + 1, std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
      auto f = bytes;
      put(f, p.header + 8, v, 8);
      expect_error(f, name + " raw size " + std::to_string(v), name);
    }
    for (std::uint64_t v : {std::uint64_t{p.stored} + 1, std::uint64_t{p.stored} - 1, std::uint64_t{0},
                            std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
      auto f = bytes;
      put(f, p.header + 16, v, 8);
      expect_error(f, name + " stored size " + std::to_string(v));
    }
    for (std::uint64_t v : {std::uint64_t{2}, std::uint64_t{0xffffffff}}) {
      auto f = bytes;
      put(f, p.header + 4, v, 4);
      expect_error(f, name + " codec " + std::to_string(v), "codec");
    }
  }
  auto f = bytes;
  put(f, 12, 0xffffffff, 4);
  expect_error(f, "section count 2^32-1", "sections");
  put(f, 12, places(bytes).size() + 1, 4);
  expect_error(f, "one section more than there is");
}

TEST(SnapshotFormat, WrongMagicAndVersionsAreErrors) {
  auto bytes = good();
  auto f = bytes;
  f[0] = 'X';
  expect_error(f, "magic", "bad magic");
  expect_error("", "empty file", "bad magic");
  expect_error(std::string(4096, '\0'), "zeros", "bad magic");
  for (std::uint32_t v : {0u, format_version + 1, 0xffffffffu}) {
    f = bytes;
    put(f, 8, v, 4);
    expect_error(f, "version " + std::to_string(v), "format version " + std::to_string(v));
  }
}

// Builds a file from sections given as (id, codec, raw size, stored bytes).
struct raw_section {
  std::uint32_t id, how;
  std::uint64_t raw_size;
  std::string stored;
};
std::string assemble(const std::vector<raw_section>& sections) {
  std::string out(magic, sizeof magic);
  detail::put_le(out, format_version, 4);
  detail::put_le(out, sections.size(), 4);
  for (const auto& s : sections) {
    detail::put_le(out, s.id, 4);
    detail::put_le(out, s.how, 4);
    detail::put_le(out, s.raw_size, 8);
    detail::put_le(out, s.stored.size(), 8);
    out += s.stored;
  }
  return out;
}

raw_section packed(section_id id, const std::string& raw) {
  return {static_cast<std::uint32_t>(id), 1, raw.size(), compress(raw).value()};
}

std::string meta_text() {
  std::string m;
  for (const auto& [k, v] : small().meta)
    if (k != "vmlinux_btf") m += k + "=" + v + "\n";
  return m;
}

// The smallest valid file: meta, no verdicts, no BTF, kallsyms, config; `change` replaces one section.
std::string minimal(std::optional<raw_section> change = std::nullopt) {
  std::string rows;
  detail::put_le(rows, 0, 4);
  std::vector<raw_section> s = {packed(section_id::meta, meta_text()), packed(section_id::verdicts, rows),
                                packed(section_id::kallsyms, "a\nb\n"), packed(section_id::config, "CONFIG_BPF=y\n")};
  if (change) {
    bool replaced = false;
    for (auto& x : s)
      if (x.id == change->id) x = *change, replaced = true;
    if (!replaced) s.push_back(*change);
    std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  return assemble(s);
}

TEST(SnapshotFormat, DecompressionIsBounded) {
  ASSERT_TRUE(std::holds_alternative<kernel_snapshot>(kernel_snapshot::parse(minimal())))
      << std::get<std::string>(kernel_snapshot::parse(minimal()));
  // A zstd bomb: 128 MiB of newlines in a few KiB, under a header that claims 4 bytes, or the truth
  // (more than the kallsyms limit). Neither is decompressed.
  std::string bomb = compress(std::string(128u << 20, '\n')).value();
  ASSERT_LT(bomb.size(), 64u << 10);
  auto kallsyms = static_cast<std::uint32_t>(section_id::kallsyms);
  expect_error(minimal(raw_section{kallsyms, 1, 4, bomb}), "bomb claiming 4 bytes", "kallsyms: zstd frame holds");
  expect_error(minimal(raw_section{kallsyms, 1, 128u << 20, bomb}), "bomb claiming its size", "more than the limit");
  // Claims that add up beyond the total limit, each within its own.
  std::vector<raw_section> many = {packed(section_id::meta, meta_text())};
  for (std::uint32_t id = 10; id < 20; ++id) many.push_back({id, 1, 64u << 20, "x"});
  expect_error(assemble(many), "ten unknown sections of 64 MiB", "total limit");
  // A frame without its content size, and one that is cut.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string frame(256, '\0');
  std::size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), "a\nb\n", 4);
  ZSTD_freeCCtx(cctx);
  ASSERT_FALSE(ZSTD_isError(n));
  frame.resize(n);
  expect_error(minimal(raw_section{kallsyms, 1, 4, frame}), "no content size", "content size");
  auto good_frame = compress("a\nb\n").value();
  expect_error(minimal(raw_section{kallsyms, 1, 4, good_frame.substr(0, good_frame.size() - 1)}), "cut frame",
               "kallsyms");
  expect_error(minimal(raw_section{kallsyms, 1, 4, good_frame + "zz"}), "bytes after the frame", "kallsyms");
  expect_error(minimal(raw_section{kallsyms, 1, 4, std::string(good_frame.size(), '\xff')}), "noise", "kallsyms");
}

TEST(SnapshotFormat, SectionOrderAndPresence) {
  std::string rows;
  detail::put_le(rows, 0, 4);
  auto meta = packed(section_id::meta, meta_text());
  auto verdicts = packed(section_id::verdicts, rows);
  auto kallsyms = packed(section_id::kallsyms, "a\n");
  auto config = packed(section_id::config, "");
  expect_error(assemble({meta, kallsyms, config}), "no verdicts", "verdicts: missing");
  expect_error(assemble({meta, verdicts, config}), "no kallsyms", "kallsyms: missing");
  expect_error(assemble({meta, verdicts, kallsyms, kallsyms, config}), "kallsyms twice", "out of order or repeated");
  expect_error(assemble({verdicts, meta, kallsyms, config}), "meta after verdicts", "out of order");
  // An id this version does not know is skipped (a newer writer's optional section).
  auto later = assemble({meta, verdicts, kallsyms, config, raw_section{99, 1, 3, compress("new").value()}});
  EXPECT_TRUE(std::holds_alternative<kernel_snapshot>(kernel_snapshot::parse(later)));
  // Stored (uncompressed) sections are allowed, with equal sizes.
  auto stored = assemble({meta, verdicts, raw_section{6, 0, 2, "a\n"}, config});
  EXPECT_TRUE(std::holds_alternative<kernel_snapshot>(kernel_snapshot::parse(stored)));
  expect_error(assemble({meta, verdicts, raw_section{6, 0, 3, "a\n"}, config}), "stored sizes differ", "kallsyms");
  // The meta says BTF is present: then it must be.
  auto meta_btf = packed(section_id::meta, meta_text() + "vmlinux_btf=present\n");
  expect_error(assemble({meta_btf, verdicts, kallsyms, config}), "vmlinux_btf=present without it");
}

TEST(SnapshotFormat, BadSectionContentsAreErrors) {
  auto meta = static_cast<std::uint32_t>(section_id::meta);
  auto at = [](section_id id, const std::string& raw) { return minimal(packed(id, raw)); };
  expect_error(at(section_id::meta, "release=x\n"), "meta without the required keys", "meta: no");
  expect_error(at(section_id::meta, meta_text() + "a"), "meta line not ended", "not ended");
  expect_error(at(section_id::meta, "zz=1\n" + meta_text()), "meta out of order", "out of order");
  expect_error(at(section_id::meta, meta_text() + "zz=\x1b[31m\n"), "escape in a value", "bad value");
  expect_error(at(section_id::meta, meta_text() + "Zz=1\n"), "capital in a key", "bad name");
  (void)meta;
  expect_error(at(section_id::kallsyms, "b\na\n"), "kallsyms unsorted", "out of order");
  expect_error(at(section_id::kallsyms, "a\na\n"), "kallsyms repeated", "out of order");
  expect_error(at(section_id::kallsyms, "a b\n"), "space in a name", "bad name");
  expect_error(at(section_id::kallsyms, std::string(600, 'a') + "\n"), "name too long", "bad name");
  expect_error(at(section_id::kallsyms, ""), "no names but kallsyms=listed", "kallsyms");
  expect_error(at(section_id::config, "CONFIG_B=y\nCONFIG_A=y\n"), "config unsorted", "out of order");
  expect_error(at(section_id::config, "BPF=y\n"), "config name without CONFIG_", "bad name");
  expect_error(at(section_id::config, "CONFIG_BPF\n"), "config line without =", "no '='");

  auto row = [](std::string_view sec, std::string_view name, std::uint8_t st, std::uint32_t err,
                std::string_view reason) {
    std::string r;
    detail::put_str(r, sec);
    detail::put_str(r, name);
    detail::put_le(r, st, 1);
    detail::put_le(r, err, 4);
    detail::put_str(r, reason);
    detail::put_str(r, "");
    return r;
  };
  auto rows = [](std::uint32_t n, const std::string& body) {
    std::string r;
    detail::put_le(r, n, 4);
    return r + body;
  };
  auto ok = row("program_types", "xdp", 0, 0, "loaded");
  EXPECT_TRUE(std::holds_alternative<kernel_snapshot>(kernel_snapshot::parse(at(section_id::verdicts, rows(1, ok)))));
  expect_error(at(section_id::verdicts, rows(1, row("program_types", "xdp", 3, 0, ""))), "status 3", "status 3");
  expect_error(at(section_id::verdicts, rows(1, row("program_types", "xdp", 0, 0x80000000u, ""))), "errno < 0",
               "errno");
  expect_error(at(section_id::verdicts, rows(2, ok + ok)), "row repeated", "out of order");
  expect_error(at(section_id::verdicts, rows(1, row("Program", "xdp", 0, 0, ""))), "bad section", "bad section");
  expect_error(at(section_id::verdicts, rows(1, row("program_types", "x\ny", 0, 0, ""))), "newline in a name",
               "bad fact name");
  expect_error(at(section_id::verdicts, rows(1, row("program_types", "xdp", 0, 0, "\x1b]0;x\x07"))),
               "escape in a reason", "control characters");
  expect_error(at(section_id::verdicts, rows(0xffffffff, ok)), "count 2^32-1", "does not fit");
  expect_error(at(section_id::verdicts, rows(2, ok)), "count one too many", "verdicts");
  expect_error(at(section_id::verdicts, rows(1, ok + "x")), "a byte after the rows", "after the last row");

  expect_error(minimal(packed(section_id::vmlinux_btf, std::string(64, '\x5a'))), "noise as vmlinux BTF",
               "vmlinux_btf");
  std::string mods;
  detail::put_le(mods, 1, 4);
  detail::put_str(mods, "mod");
  detail::put_le(mods, 4, 8);
  mods += "abcd";
  expect_error(minimal(packed(section_id::module_btf, mods)), "module BTF without vmlinux", "module_btf");
}

TEST(SnapshotFormat, ModuleBtfIsChecked) {
  auto c = small();
  c.module_btf["a-mod"] = std::string(32, '\x01');
  auto bytes = serialize(c);
  ASSERT_TRUE(bytes);
  expect_error(*bytes, "noise as module BTF", "a-mod: not valid split BTF");
  c = small();
  c.module_btf["bad/name"] = c.module_btf.begin()->second;
  expect_error(serialize(c).value(), "a module named with a slash", "bad module name");
}

// The fuzz target's seeds (tests/fuzz/make-snapshot-corpus.py, written by Python and the zstd command,
// not by this writer) are valid snapshots: the format is what docs/snapshot.md says.
TEST(SnapshotFormat, TheFuzzSeedsAreValid) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(BPFPROBE_SNAPSHOT_CORPUS)) {
    auto r = kernel_snapshot::load(e.path());
    ASSERT_TRUE(std::holds_alternative<kernel_snapshot>(r)) << std::get<std::string>(r);
    const auto& s = std::get<kernel_snapshot>(r);
    EXPECT_EQ(s.release(), "6.1.0-seed");
    EXPECT_EQ(s.verdicts().size(), 3u);
    if (s.vmlinux_btf()) {
      ASSERT_NE(s.module_btf("mod"), nullptr) << e.path();
      EXPECT_EQ(btf__find_by_name_kind(s.module_btf("mod"), "s", BTF_KIND_STRUCT), 2);
    }
    ++n;
  }
  EXPECT_EQ(n, 3u);
}

TEST(SnapshotFormat, RandomCorruptionNeverCrashes) {
  libbpf_set_print(nullptr);  // libbpf explains each corrupt BTF on stderr; the error line is what counts
  auto bytes = good();
  std::uint64_t x = 88172645463325252ull;
  auto next = [&] { return x ^= x << 13, x ^= x >> 7, x ^= x << 17; };
  for (int i = 0; i < 3000; ++i) {
    auto f = bytes;
    for (int k = 0, flips = 1 + static_cast<int>(next() % 4); k < flips; ++k)
      f[next() % f.size()] = static_cast<char>(next());
    auto r = kernel_snapshot::parse(f);
    if (auto* e = std::get_if<std::string>(&r)) {
      ASSERT_TRUE(std::all_of(e->begin(), e->end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; })) << *e;
    }
  }
}

}  // namespace
}  // namespace bpfprobe::snapshot
