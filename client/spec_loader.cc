#include "client/spec_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/spec_overrides.h"
#include "client/yaml_scalars.h"
#include "client/yaml_text.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace caviar::client {
namespace {

// Counts a text's YAML documents, stopping at `cap`. Debian's yaml-cpp 0.7
// never ends YAML::LoadAll on a ',' where a document-level node would start
// (",}", or "  a: b" then ",x"): it returns empty documents forever without
// consuming the comma (tests/fuzz/README.md, finding 6). Counting with a cap
// first keeps LoadAll to texts that end.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};
int CountDocuments(const std::string& text, int cap) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter ignore;
  int documents = 0;
  while (documents < cap && parser.HandleNextDocument(ignore)) ++documents;
  return documents;
}

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::OneofDescriptor;
using nlohmann::json;

constexpr size_t kMaxErrors = 20;

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int above = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      break;
  }
  if (node.Tag() == "?") return absl::StrCat("'", node.Scalar(), "'");
  return absl::StrCat("the string \"", node.Scalar(), "\"");
}

bool IsPlain(const YAML::Node& node) { return node.Tag() == "?"; }

// Walks YAML against a Descriptor, producing protobuf JSON (proto field
// names) and collecting errors that name the YAML path.
class YamlToJsonConverter {
 public:
  explicit YamlToJsonConverter(std::string source) : source_(std::move(source)) {}

  const std::vector<std::string>& errors() const { return errors_; }

  json Message(const YAML::Node& node, const Descriptor* type, const std::string& path) {
    if (const auto special = WellKnown(node, type, path)) return *special;
    json object = json::object();
    if (!node.IsMap()) {
      Error(
          node, path,
          absl::StrCat("expected a mapping (", type->name(), "), got ", Describe(node)));
      return object;
    }
    std::set<std::string> seen;
    std::vector<const FieldDescriptor*> oneof_member(type->oneof_decl_count(), nullptr);
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: `it->` points into a temporary that dies with this statement.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        Error(key, path, "keys must be plain names");
        continue;
      }
      const std::string& name = key.Scalar();
      const std::string field_path = path.empty() ? name : absl::StrCat(path, ".", name);
      if (!seen.insert(name).second) {
        Error(key, field_path, "duplicate key");
        continue;
      }
      const FieldDescriptor* field = type->FindFieldByName(name);
      if (field == nullptr) {
        Error(key, field_path, UnknownField(name, type));
        continue;
      }
      if (value.IsNull()) continue;  // `key:` with nothing = not set.
      if (const OneofDescriptor* oneof = field->real_containing_oneof()) {
        const FieldDescriptor*& member = oneof_member[oneof->index()];
        if (member != nullptr) {
          Error(key, field_path,
                absl::StrCat("'", member->name(), "' is already set; '", name, "' and '",
                             member->name(),
                             "' are alternatives (one of: ", OneofMembers(oneof), ")"));
          continue;
        }
        member = field;
      }
      std::optional<json> converted = FieldValue(value, field, field_path);
      if (converted) object[name] = std::move(*converted);
    }
    return object;
  }

  void Error(const YAML::Node& at, const std::string& path, const std::string& what) {
    if (errors_.size() >= kMaxErrors) return;
    std::string where = source_;
    YAML::Mark mark = at.Mark();
    if (!mark.is_null())
      absl::StrAppend(&where, ":", mark.line + 1, ":", mark.column + 1);
    errors_.push_back(
        absl::StrCat(where, ": ", path.empty() ? "spec" : path, ": ", what));
  }

 private:
  static std::string OneofMembers(const OneofDescriptor* oneof) {
    std::vector<std::string> names;
    for (int i = 0; i < oneof->field_count(); ++i)
      names.push_back(oneof->field(i)->name());
    return absl::StrJoin(names, ", ");
  }

  static std::string UnknownField(const std::string& name, const Descriptor* type) {
    std::vector<std::string> names;
    std::string closest;
    int closest_distance = 3;  // Suggest only close spellings.
    for (int i = 0; i < type->field_count(); ++i) {
      const std::string& candidate = type->field(i)->name();
      names.push_back(candidate);
      int distance = EditDistance(absl::AsciiStrToLower(name), candidate);
      if (distance < closest_distance) {
        closest_distance = distance;
        closest = candidate;
      }
    }
    if (!closest.empty())
      return absl::StrCat("unknown field (did you mean '", closest, "'?)");
    return absl::StrCat("unknown field (", type->name(),
                        " has: ", absl::StrJoin(names, ", "), ")");
  }

  std::optional<json> FieldValue(const YAML::Node& value, const FieldDescriptor* field,
                                 const std::string& path) {
    if (field->is_map()) {
      if (!value.IsMap()) {
        Error(value, path, absl::StrCat("expected a mapping, got ", Describe(value)));
        return std::nullopt;
      }
      const FieldDescriptor* value_field = field->message_type()->map_value();
      json object = json::object();
      std::set<std::string> seen;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!it->first.IsScalar()) {
          Error(it->first, path, "map keys must be scalars");
          continue;
        }
        const std::string& key = it->first.Scalar();
        const std::string entry_path = absl::StrCat(path, ".", key);
        if (!seen.insert(key).second) {
          Error(it->first, entry_path, "duplicate key");
          continue;
        }
        std::optional<json> entry = SingleValue(it->second, value_field, entry_path);
        if (entry) object[key] = std::move(*entry);
      }
      return object;
    }
    if (field->is_repeated()) {
      if (!value.IsSequence()) {
        Error(value, path, absl::StrCat("expected a list, got ", Describe(value)));
        return std::nullopt;
      }
      json array = json::array();
      for (size_t i = 0; i < value.size(); ++i) {
        std::optional<json> element =
            SingleValue(value[i], field, absl::StrCat(path, "[", i, "]"));
        if (element) array.push_back(std::move(*element));
      }
      return array;
    }
    return SingleValue(value, field, path);
  }

  std::optional<json> SingleValue(const YAML::Node& value, const FieldDescriptor* field,
                                  const std::string& path) {
    if (field->type() == FieldDescriptor::TYPE_MESSAGE ||
        field->type() == FieldDescriptor::TYPE_GROUP) {
      if (value.IsNull()) return json::object();
      return Message(value, field->message_type(), path);
    }
    if (!value.IsScalar()) {
      Error(value, path,
            absl::StrCat("expected ", Expected(field), ", got ", Describe(value)));
      return std::nullopt;
    }
    const std::string& text = value.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return json(text);
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool flag = false;
        if (IsPlain(value) && yaml_scalars::IsBool(text, &flag)) return json(flag);
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        return EnumValue(value, field->enum_type(), path);
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        if (!IsPlain(value) || !yaml_scalars::IsFloat(text)) break;
        std::optional<double> number = FiniteNumber(value, path);
        if (!number) return std::nullopt;
        return json(*number);
      }
      default:
        return IntegerValue(value, field, path);
    }
    Error(value, path,
          absl::StrCat("expected ", Expected(field), ", got ", Describe(value)));
    return std::nullopt;
  }

  // A plain float scalar as a finite double. Infinities, NaN and numbers a
  // double cannot hold are errors: JSON has no infinity (1e400 used to
  // become 0, or vanish from a list), and no spec field means one.
  std::optional<double> FiniteNumber(const YAML::Node& value, const std::string& path) {
    const std::string& text = value.Scalar();
    if (yaml_scalars::IsInfOrNan(text)) {
      Error(value, path, absl::StrCat(text, " is not a finite number"));
      return std::nullopt;
    }
    const double number = std::strtod(text.c_str(), nullptr);
    if (std::isinf(number)) {
      Error(value, path,
            absl::StrCat(text, " is out of range for a double (largest: ",
                         yaml_scalars::FormatDouble(std::numeric_limits<double>::max()),
                         ")"));
      return std::nullopt;
    }
    const std::string_view mantissa =
        std::string_view(text).substr(0, text.find_first_of("eE"));
    if (number == 0 && mantissa.find_first_of("123456789") != std::string_view::npos) {
      Error(value, path,
            absl::StrCat(text, " is too small for a double (it would read as 0)"));
      return std::nullopt;
    }
    return number;
  }

  std::optional<json> IntegerValue(const YAML::Node& value, const FieldDescriptor* field,
                                   const std::string& path) {
    const std::string& text = value.Scalar();
    long double number = 0;
    bool parsed = false;
    if (IsPlain(value) && yaml_scalars::IsInt(text)) {
      number = std::strtold(text.c_str(), nullptr);
      parsed = true;
    } else if (IsPlain(value) && yaml_scalars::IsFloat(text) &&
               !yaml_scalars::IsInfOrNan(text)) {
      number = std::strtold(text.c_str(), nullptr);
      parsed = std::floor(number) == number;  // 1e3 is an integer; 2.5 is not.
    }
    if (!parsed) {
      Error(value, path,
            absl::StrCat("expected ", Expected(field), ", got ", Describe(value)));
      return std::nullopt;
    }
    long double min = 0, max = 0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        min = std::numeric_limits<int32_t>::min();
        max = std::numeric_limits<int32_t>::max();
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        max = std::numeric_limits<uint32_t>::max();
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        min = static_cast<long double>(std::numeric_limits<int64_t>::min());
        max = static_cast<long double>(std::numeric_limits<int64_t>::max());
        break;
      default:
        max = static_cast<long double>(std::numeric_limits<uint64_t>::max());
        break;
    }
    if (number < min || number > max) {
      Error(
          value, path,
          absl::StrCat(text, " is out of range for ", Expected(field), " (",
                       static_cast<double>(min), " to ", static_cast<double>(max), ")"));
      return std::nullopt;
    }
    // Integers are written exactly (int64 seeds keep all their digits).
    if (yaml_scalars::IsInt(text)) {
      if (text[0] == '-') return json(std::strtoll(text.c_str(), nullptr, 10));
      return json(std::strtoull(text.c_str(), nullptr, 10));
    }
    if (number < 0) return json(static_cast<int64_t>(number));
    return json(static_cast<uint64_t>(number));
  }

  std::optional<json> EnumValue(const YAML::Node& value, const EnumDescriptor* type,
                                const std::string& path) {
    const std::string& text = value.Scalar();
    std::vector<std::string> names;
    for (int i = 0; i < type->value_count(); ++i) {
      const std::string& name = type->value(i)->name();
      if (absl::EqualsIgnoreCase(name, text)) return json(name);
      if (name.size() < 12 || name.substr(name.size() - 12) != "_UNSPECIFIED") {
        names.push_back(name);
      }
    }
    Error(value, path,
          absl::StrCat("unknown value '", text, "' (", type->name(),
                       " is one of: ", absl::StrJoin(names, ", "), ")"));
    return std::nullopt;
  }

  static std::string Expected(const FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
        return "an integer";
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        return "a non-negative integer";
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        return "a number";
      case FieldDescriptor::CPPTYPE_BOOL:
        return "true or false";
      case FieldDescriptor::CPPTYPE_ENUM:
        return absl::StrCat("a ", field->enum_type()->name(), " name");
      case FieldDescriptor::CPPTYPE_STRING:
        return "a string";
      default:
        return absl::StrCat("a mapping (", field->message_type()->name(), ")");
    }
  }

  // google.protobuf.Struct/Value/ListValue take free-form YAML; Timestamp and
  // Duration take their JSON strings; wrappers take their wrapped scalar.
  std::optional<json> WellKnown(const YAML::Node& node, const Descriptor* type,
                                const std::string& path) {
    const std::string& name = type->full_name();
    if (name == "google.protobuf.Struct") {
      if (!node.IsMap()) {
        Error(node, path, absl::StrCat("expected a mapping, got ", Describe(node)));
        return json::object();
      }
      return FreeForm(node, path);
    }
    if (name == "google.protobuf.Value") return FreeForm(node, path);
    if (name == "google.protobuf.ListValue") {
      if (!node.IsSequence()) {
        Error(node, path, absl::StrCat("expected a list, got ", Describe(node)));
        return json::array();
      }
      return FreeForm(node, path);
    }
    if (name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration" ||
        name == "google.protobuf.FieldMask") {
      if (!node.IsScalar()) {
        Error(node, path, absl::StrCat("expected a string, got ", Describe(node)));
        return json("");
      }
      return json(node.Scalar());
    }
    if (type->file()->name() == "google/protobuf/wrappers.proto") {
      std::optional<json> wrapped =
          SingleValue(node, type->FindFieldByName("value"), path);
      return wrapped ? *wrapped : json(nullptr);
    }
    return std::nullopt;
  }

  // YAML's own typing: plain scalars may be null, bools or numbers.
  json FreeForm(const YAML::Node& node, const std::string& path) {
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        json object = json::object();
        for (auto it = node.begin(); it != node.end(); ++it) {
          if (!it->first.IsScalar()) {
            Error(it->first, path, "map keys must be scalars");
            continue;
          }
          const std::string& key = it->first.Scalar();
          const std::string entry_path = absl::StrCat(path, ".", key);
          if (object.contains(key)) {
            Error(it->first, entry_path, "duplicate key");
            continue;
          }
          object[key] = FreeForm(it->second, entry_path);
        }
        return object;
      }
      case YAML::NodeType::Sequence: {
        json array = json::array();
        for (size_t i = 0; i < node.size(); ++i) {
          array.push_back(FreeForm(node[i], absl::StrCat(path, "[", i, "]")));
        }
        return array;
      }
      case YAML::NodeType::Scalar:
        break;
      default:
        return json(nullptr);
    }
    const std::string& text = node.Scalar();
    if (!IsPlain(node)) return json(text);
    bool flag = false;
    if (yaml_scalars::IsBool(text, &flag)) return json(flag);
    if (yaml_scalars::IsNull(text)) return json(nullptr);
    if (yaml_scalars::IsFloat(text) && !yaml_scalars::IsInfOrNan(text)) {
      std::optional<double> number = FiniteNumber(node, path);
      return number ? json(*number) : json(nullptr);
    }
    return json(text);
  }

  std::string source_;
  std::vector<std::string> errors_;
};

// Reads up to `limit` bytes: one over the cap is enough for CheckYamlText
// to refuse a file, without reading all of a huge one (or /dev/zero).
void ReadAtMost(std::istream& in, size_t limit, std::string* contents) {
  contents->resize(limit);
  in.read(contents->data(), static_cast<std::streamsize>(limit));
  contents->resize(static_cast<size_t>(in.gcount()));
}

absl::Status ReadFile(const std::string& path, std::string* contents) {
  if (path == "-") {
    ReadAtMost(std::cin, kMaxSpecYamlBytes + 1, contents);
    return absl::OkStatus();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    std::string message =
        absl::StrCat("cannot read spec file '", path, "': ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    if (error == EACCES) return absl::PermissionDeniedError(message);
    return absl::InvalidArgumentError(message);
  }
  if (std::filesystem::is_directory(path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read spec file '", path, "': it is a directory"));
  }
  ReadAtMost(in, kMaxSpecYamlBytes + 1, contents);
  return absl::OkStatus();
}

}  // namespace

absl::Status YamlToMessage(std::string_view yaml, std::string_view source_name,
                           google::protobuf::Message* message) {
  message->Clear();
  const std::string source(source_name);
  if (absl::Status text = CheckYamlText(yaml, source); !text.ok()) return text;
  std::vector<YAML::Node> documents;
  try {
    const std::string text(yaml);
    if (CountDocuments(text, 2) > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": expected one YAML document, found more (--- separators, or a ','"
                  " outside brackets where a value would start)"));
    }
    documents = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1,
                                                   ": YAML syntax error: ", e.msg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": YAML error: ", e.what()));
  }
  if (documents.empty() || documents[0].IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": the document is empty"));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": expected one YAML document, found ", documents.size(),
                     " (--- separators)"));
  }
  YamlToJsonConverter converter(source);
  json object = converter.Message(documents[0], message->GetDescriptor(), "");
  if (!converter.errors().empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(converter.errors(), "\n"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string json_text;
  try {
    json_text = object.dump();
  } catch (const json::exception& e) {
    // CheckYamlText lets only UTF-8 through and yaml-cpp refuses escapes of
    // surrogates, so a string that cannot be dumped is a gap; still an
    // error in the input, never an exception out of the CLI.
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.what()));
  }
  auto status = google::protobuf::util::JsonStringToMessage(json_text, message, options);
  if (!status.ok()) {
    // The walk above checks what this parser checks; reaching here is a gap
    // in the walk, still reported as the user's input error.
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<caviar::v1::StudySpec> ParseSpecYaml(std::string_view yaml,
                                                    std::string_view source) {
  caviar::v1::StudySpec spec;
  absl::Status status = YamlToMessage(yaml, source, &spec);
  if (!status.ok()) return status;
  return spec;
}

absl::StatusOr<caviar::v1::StudySpec> LoadSpecFile(
    const std::string& path, const std::vector<std::string>& overrides) {
  std::string contents;
  absl::Status status = ReadFile(path, &contents);
  if (!status.ok()) return status;
  std::string source = path == "-" ? "<stdin>" : path;
  // Overrides parse the spec with yaml-cpp: check what it will see first.
  status = CheckYamlText(contents, source);
  if (!status.ok()) return status;
  for (size_t i = 0; i < overrides.size(); ++i) {
    status = CheckYamlText(overrides[i], absl::StrCat("--set #", i + 1));
    if (!status.ok()) return status;
  }
  absl::StatusOr<std::string> changed = ApplyOverrides(contents, overrides);
  if (!changed.ok()) return changed.status();
  if (!overrides.empty()) source += " (with --set)";
  absl::StatusOr<caviar::v1::StudySpec> spec = ParseSpecYaml(*changed, source);
  if (!spec.ok()) return spec;
  std::filesystem::path base = path == "-"
                                   ? std::filesystem::current_path()
                                   : std::filesystem::absolute(path).parent_path();
  ResolveRelativePaths(base.string(), &*spec);
  return spec;
}

void ResolveRelativePaths(const std::string& base_dir, caviar::v1::StudySpec* spec) {
  if (!spec->has_command()) return;
  const std::string& working_dir = spec->command().working_dir();
  if (working_dir.empty() || working_dir[0] == '/') return;
  std::filesystem::path resolved =
      (std::filesystem::path(base_dir) / working_dir).lexically_normal();
  std::string text = resolved.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  spec->mutable_command()->set_working_dir(text);
}

}  // namespace caviar::client
