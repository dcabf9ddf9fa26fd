// Walks every row of every catalog family (as cilium/ebpf's CheckFeatureMatrix does): each enum value
// this build's uapi header and libbpf know has a row with the same value; each row has a probe (or a
// set-up that names a known type) and a first kernel + commit cell in probes/facts (scripts/gen-facts.py
// rejects empty cells and Catalog.facts_in_sync keeps facts.hpp equal to the TSVs). No kernel needed.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bpfprobe/btf/builtin_enums.hpp>
#include <bpfprobe/catalog/attach_mechanisms.hpp>
#include <bpfprobe/catalog/calibration.hpp>
#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/links.hpp>
#include <bpfprobe/catalog/map_types.hpp>
#include <bpfprobe/catalog/misc.hpp>
#include <bpfprobe/probe/fact_key.hpp>
#include <regex>
#include <set>
#include <span>
#include <string>

namespace bpfprobe {
namespace {

using probe::doc;

bool has_doc(std::span<const doc> table, std::string_view name) { return probe::find_doc(table, name) != nullptr; }

std::optional<std::int64_t> builtin_value(std::span<const btf::named_value> table, std::string_view name) {
  for (const auto& e : table)
    if (e.name == name) return e.value;
  return std::nullopt;
}

// Every value below the uapi header's __MAX_* that libbpf can name has a built-in row with that value.
// (libbpf may be older than the header: values it cannot name are left to the header's next sync.)
template <class Enum>
void expect_uapi_covered(const char* family, int max, const char* (*libbpf_name)(Enum),
                         std::span<const btf::named_value> table, int first = 1) {
  int named = 0;
  for (int v = first; v < max; ++v) {
    const char* name = libbpf_name(static_cast<Enum>(v));
    if (!name) continue;
    ++named;
    auto value = builtin_value(table, name);
    ASSERT_TRUE(value) << family << " " << name << " (" << v << ") has no row in probes/facts";
    EXPECT_EQ(*value, v) << family << " " << name;
  }
  EXPECT_GT(named, 0) << family << ": libbpf named none of the header's values";
}

TEST(Catalog, EveryUapiEnumValueHasARow) {
  expect_uapi_covered("prog type", __MAX_BPF_PROG_TYPE, libbpf_bpf_prog_type_str, btf::builtin_prog_types);
  expect_uapi_covered("map type", __MAX_BPF_MAP_TYPE, libbpf_bpf_map_type_str, btf::builtin_map_types);
  expect_uapi_covered("link type", __MAX_BPF_LINK_TYPE, libbpf_bpf_link_type_str, btf::builtin_link_types);
  expect_uapi_covered("attach type", __MAX_BPF_ATTACH_TYPE, libbpf_bpf_attach_type_str, btf::builtin_attach_types, 0);
}

TEST(Catalog, EveryUapiHelperHasARow) {
  auto helpers = btf::builtin_helpers();
  ASSERT_GT(helpers.size(), 100u);
  for (const auto& h : helpers) EXPECT_TRUE(has_doc(probe::helper_docs, h.name)) << h.name << " (" << h.value << ")";
}

// The value tables (enum_values.hpp) and the doc tables (facts.hpp) come from the same TSV rows.
TEST(Catalog, EnumRowsAndDocRowsAgree) {
  struct family {
    const char* name;
    std::span<const btf::named_value> values;
    std::span<const doc> docs;
  };
  for (const auto& f : {family{"prog", btf::builtin_prog_types, probe::prog_type_docs},
                        family{"map", btf::builtin_map_types, probe::map_type_docs},
                        family{"link", btf::builtin_link_types, probe::link_type_docs}}) {
    EXPECT_EQ(f.values.size(), f.docs.size()) << f.name;
    for (const auto& e : f.values) EXPECT_TRUE(has_doc(f.docs, e.name)) << f.name << " " << e.name;
  }
}

// Cells are a release ("4.8", or a tool release such as "pahole-1.27") and a 12-hex commit, or empty
// where the TSV says "?".
TEST(Catalog, EveryDocCellIsWellFormed) {
  static const std::regex release(R"(^([3-9]\.[0-9]+|pahole-[0-9]+\.[0-9]+)$)"), commit(R"(^[0-9a-f]{12}$)");
  for (std::span<const doc> table :
       {std::span<const doc>(probe::prog_type_docs), std::span<const doc>(probe::map_type_docs),
        std::span<const doc>(probe::link_type_docs), std::span<const doc>(probe::helper_docs),
        std::span<const doc>(probe::feature_docs), std::span<const doc>(probe::attach_docs),
        std::span<const doc>(probe::dynptr_iter_docs)}) {
    std::set<std::string_view> names;
    for (const auto& d : table) {
      EXPECT_FALSE(d.name.empty());
      EXPECT_TRUE(names.insert(d.name).second) << "two rows named " << d.name;
      std::string first(d.first_kernel), c(d.commit);
      EXPECT_TRUE(first.empty() || std::regex_match(first, release)) << d.name << ": " << first;
      EXPECT_TRUE(c.empty() || std::regex_match(c, commit)) << d.name << ": " << c;
    }
  }
}

// A set-up row names a type the catalog has, once, and has its function.
template <class Row>
void expect_setup_rows(const char* family, std::span<const Row> rows, std::span<const doc> docs) {
  std::set<std::string_view> seen;
  for (const auto& r : rows) {
    EXPECT_TRUE(has_doc(docs, r.name)) << family << " set-up row " << r.name << " names no catalog row";
    EXPECT_TRUE(seen.insert(r.name).second) << family << " " << r.name << " has two set-up rows";
    EXPECT_NE(r.setup, nullptr) << family << " " << r.name;
  }
}

TEST(Catalog, SetUpRowsNameCatalogTypes) {
  expect_setup_rows<probe::map_setup_row>("map", probe::map_setup_rows, probe::map_type_docs);
  expect_setup_rows<probe::load_setup_row>("prog", probe::load_setup_rows, probe::prog_type_docs);
}

// Every link type has at least one probe row, every probe row a catalog link type, and every
// variant an attach type the catalog knows (unless the link type is newer than this build's uapi).
TEST(Catalog, EveryLinkTypeHasProbeRows) {
  for (const auto& d : probe::link_type_docs) {
    auto n = std::count_if(std::begin(probe::link_rows), std::end(probe::link_rows),
                           [&](const auto& r) { return r.link_type == d.name; });
    EXPECT_GT(n, 0) << "link type " << d.name << " has no probe row (catalog/links.hpp)";
  }
  std::set<std::pair<std::string_view, std::string_view>> labels;
  for (const auto& r : probe::link_rows) {
    auto type = builtin_value(btf::builtin_link_types, r.link_type);
    ASSERT_TRUE(type) << "probe row for unknown link type " << r.link_type;
    EXPECT_NE(r.run, nullptr) << r.link_type;
    if (r.each_attach_type) {
      EXPECT_TRUE(r.attach_type.empty() && r.label.empty()) << r.link_type;
      auto matches = std::count_if(std::begin(btf::builtin_attach_types), std::end(btf::builtin_attach_types),
                                   [&](const auto& e) { return r.each_attach_type(e.name); });
      EXPECT_GT(matches, 0) << r.link_type << ": its attach-type filter matches no attach type";
      continue;
    }
    std::string_view label = r.label.empty() ? r.attach_type : r.label;
    EXPECT_FALSE(label.empty()) << r.link_type << ": a row without attach type needs a label";
    EXPECT_TRUE(labels.insert({r.link_type, label}).second) << r.link_type << "/" << label << " twice";
    if (!r.attach_type.empty() && *type < __MAX_BPF_LINK_TYPE) {
      EXPECT_TRUE(builtin_value(btf::builtin_attach_types, r.attach_type))
          << r.link_type << ": attach type " << r.attach_type << " has no row in attach_types.tsv";
    }
  }
}

// A misc or mechanism row that found its doc carries that doc's cells; one that found none has a
// TSV row of its own name (a "?" row). So a typo in a doc key fails here.
template <class Row>
void expect_documented(const char* family, const std::vector<Row>& rows, std::span<const doc> docs) {
  std::set<std::string_view> names;
  for (const auto& r : rows) {
    EXPECT_FALSE(r.info.name.empty()) << family;
    EXPECT_TRUE(names.insert(r.info.name).second) << family << " " << r.info.name << " twice";
    EXPECT_TRUE(static_cast<bool>(r.run)) << family << " " << r.info.name << " has no probe";
    bool found = std::any_of(docs.begin(), docs.end(), [&](const doc& d) {
      return !r.info.first_kernel.empty() ? d.first_kernel == r.info.first_kernel && d.commit == r.info.commit
                                          : d.name == r.info.name && d.first_kernel.empty();
    });
    EXPECT_TRUE(found) << family << " " << r.info.name << " has no row in probes/facts";
  }
}

TEST(Catalog, EveryMiscAndMechanismRowIsDocumented) {
  expect_documented("misc", probe::misc_probes(), probe::feature_docs);
  expect_documented("mechanism", probe::mechanism_probes(), probe::attach_docs);
}

// Calibration rows: each has a probe, a trigger and a first kernel + commit in calib.tsv, each
// calib.tsv row has a probe, and each name is a valid calib: key.
TEST(Catalog, EveryCalibrationRowIsDocumentedAndProbed) {
  expect_documented("calib", probe::calib_probes(), probe::calib_docs);
  std::set<std::string_view> names;
  for (const auto& r : probe::calib_probes()) {
    EXPECT_TRUE(names.insert(r.info.name).second) << "calib " << r.info.name << " twice";
    EXPECT_TRUE(static_cast<bool>(r.fire)) << r.info.name << " has no trigger";
    EXPECT_FALSE(r.info.first_kernel.empty()) << r.info.name;
    EXPECT_FALSE(r.info.commit.empty()) << r.info.name;
    auto key = fact_key::parse("calib:" + std::string(r.info.name));
    ASSERT_TRUE(std::holds_alternative<fact_key>(key)) << r.info.name;
    EXPECT_EQ(std::get<fact_key>(key).family, fact_family::calib);
    EXPECT_EQ(spelling(fact_family::calib).section, "calibration");
  }
  for (const auto& d : probe::calib_docs)
    EXPECT_NE(probe::find_calib(d.name), nullptr) << "calib.tsv row " << d.name << " has no probe";
}

}  // namespace
}  // namespace bpfprobe
