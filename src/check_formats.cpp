// `bpfprobe check --format github|junit|sarif` (docs/check-json.md#ci-formats).
#include "check_formats.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "build_info.hpp"

namespace bpfprobe::cli {
namespace {

// One thing to report: a program that does not load, or a warning of a program.
struct finding {
  const objcheck::object_result* object;
  const objcheck::program_result* program;
  std::string rule;   // rule_id(), or "warning"
  std::string level;  // "error" (does not load), "warning" (unknown, or a warning)
  std::string message;
};

std::string message_for(const objcheck::program_result& p) {
  std::string m = show(p.name, 64) + " (" + show(p.section, 120) + ") ";
  m += p.result.state == status::unsupported ? "does not load here: " : "may not load here (unknown): ";
  m += show(p.result.reason, 400);
  if (!p.result.evidence.empty()) m += "; evidence: " + show(p.result.evidence, 300);
  if (!p.instead.empty()) m += "; instead: " + show(p.instead, 120);
  return m;
}

std::vector<finding> findings(const std::vector<objcheck::object_result>& objects) {
  std::vector<finding> out;
  for (const auto& o : objects)
    for (const auto& p : o.programs) {
      if (!p.result.supported())
        out.push_back(
            {&o, &p, rule_id(p), p.result.state == status::unsupported ? "error" : "warning", message_for(p)});
      for (const auto& w : p.warnings)
        out.push_back({&o, &p, "warning", "warning", show(p.name, 64) + ": " + show(w, 300)});
    }
  return out;
}

std::string kernel_release() {
  utsname u{};
  return uname(&u) == 0 ? show(u.release, 64) : std::string("unknown");
}

// GitHub's escapes for a workflow command's message, and in its properties also ':' and ','.
std::string github_escape(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else if (property && c == ':')
      out += "%3A";
    else if (property && c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// A file path as a URI reference: absolute paths as file:// URIs, relative ones as they are; bytes
// outside the unreserved set and '/' percent-encoded.
std::string path_uri(std::string_view path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = path.starts_with('/') ? "file://" : "";
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string rule_id(const objcheck::program_result& p) {
  return p.code.empty() || p.code == "ok" ? std::string(to_string(p.result.state)) : p.code;
}

void print_github(std::ostream& out, const std::vector<objcheck::object_result>& objects) {
  for (const auto& f : findings(objects)) {
    out << "::" << f.level << " file=";
    if (f.program->source) {
      out << github_escape(show(f.program->source->file, 400), true) << ",line=" << f.program->source->line;
      if (f.program->source->column) out << ",col=" << f.program->source->column;
    } else {
      out << github_escape(show(f.object->path, 400), true);
    }
    out << ",title=" << github_escape("bpfprobe check " + f.rule + ": " + show(f.object->path, 200), true)
        << "::" << github_escape(f.message, false) << '\n';
  }
}

void print_junit(std::ostream& out, const std::vector<objcheck::object_result>& objects) {
  std::string kernel = kernel_release();
  std::size_t tests = 0, failures = 0, errors = 0;
  for (const auto& o : objects)
    for (const auto& p : o.programs) {
      ++tests;
      failures += p.result.state == status::unsupported;
      errors += p.result.state == status::unknown;
    }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"bpfprobe check\" tests=\"" << tests << "\" failures=\"" << failures << "\" errors=\""
      << errors << "\">\n";
  for (const auto& o : objects) {
    std::size_t f = 0, e = 0;
    for (const auto& p : o.programs) {
      f += p.result.state == status::unsupported;
      e += p.result.state == status::unknown;
    }
    std::string object = xml_escape(show(o.path, 400));
    out << "  <testsuite name=\"" << object << " on " << xml_escape(kernel) << "\" tests=\"" << o.programs.size()
        << "\" failures=\"" << f << "\" errors=\"" << e << "\" skipped=\"0\">\n"
        << "    <properties>\n"
        << "      <property name=\"object\" value=\"" << object << "\"/>\n"
        << "      <property name=\"kernel\" value=\"" << xml_escape(kernel) << "\"/>\n"
        << "    </properties>\n";
    for (const auto& p : o.programs) {
      out << "    <testcase name=\"" << xml_escape(show(p.name, 64)) << "\" classname=\"" << object << "\"";
      if (p.source)
        out << " file=\"" << xml_escape(show(p.source->file, 400)) << "\" line=\"" << p.source->line << "\"";
      out << ">\n";
      if (!p.result.supported()) {
        const char* tag = p.result.state == status::unsupported ? "failure" : "error";
        out << "      <" << tag << " type=\"" << xml_escape(rule_id(p)) << "\" message=\""
            << xml_escape(show(p.result.reason, 400)) << "\">" << xml_escape(message_for(p));
        if (p.source) out << "\nat " << xml_escape(show(p.source->file, 400)) << ':' << p.source->line;
        out << "</" << tag << ">\n";
      }
      if (!p.warnings.empty()) {
        out << "      <system-out>";
        for (const auto& w : p.warnings) out << "warning: " << xml_escape(show(w, 300)) << '\n';
        out << "</system-out>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

void print_sarif(std::ostream& out, const std::vector<objcheck::object_result>& objects) {
  using json = nlohmann::ordered_json;
  auto all = findings(objects);
  std::vector<std::string> rule_ids;
  for (const auto& f : all)
    if (std::find(rule_ids.begin(), rule_ids.end(), f.rule) == rule_ids.end()) rule_ids.push_back(f.rule);
  json rules = json::array();
  for (const auto& id : rule_ids) {
    std::string text = id == "warning" ? "The program loads, with a warning"
                                       : "The program does not load, or may not load, on this kernel: failure code " +
                                             id + " (docs/check-json.md lists the codes and their fixes)";
    json level = id == "warning" ? "warning" : "error";  // a result's own level says error or warning
    rules.push_back({{"id", id},
                     {"name", id},
                     {"shortDescription", {{"text", text}}},
                     {"defaultConfiguration", {{"level", level}}}});
  }
  json results = json::array();
  for (const auto& f : all) {
    const auto& p = *f.program;
    json physical;
    if (p.source) {
      json region{{"startLine", p.source->line}};
      if (p.source->column) region["startColumn"] = p.source->column;
      physical = {{"artifactLocation", {{"uri", path_uri(show(p.source->file, 400))}}}, {"region", region}};
    } else {
      physical = {{"artifactLocation", {{"uri", path_uri(show(f.object->path, 400))}}}};
    }
    auto index = std::find(rule_ids.begin(), rule_ids.end(), f.rule) - rule_ids.begin();
    json props{{"object", show(f.object->path, 400)},
               {"program", show(p.name, 64)},
               {"section", show(p.section, 120)},
               {"status", to_string(p.result.state)},
               {"evidence", show(p.result.evidence, 300)}};
    if (p.source) props["source_from"] = p.source->from;
    results.push_back(
        {{"ruleId", f.rule},
         {"ruleIndex", index},
         {"level", f.level},
         {"message", {{"text", f.message}}},
         {"locations",
          json::array({{{"physicalLocation", physical},
                        {"logicalLocations", json::array({{{"name", show(p.name, 64)}, {"kind", "function"}}})}}})},
         {"properties", props}});
  }
  json driver{{"name", "bpfprobe"}, {"version", build_version}, {"rules", rules}};
  json sarif{
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       json::array(
           {{{"tool", {{"driver", driver}}}, {"results", results}, {"properties", {{"kernel", kernel_release()}}}}})}};
  out << sarif.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

}  // namespace bpfprobe::cli
