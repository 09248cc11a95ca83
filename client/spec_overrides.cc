#include "client/spec_overrides.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "yaml-cpp/yaml.h"

namespace caviar::client {
namespace {

absl::Status Bad(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("--set ", key, ": ", why));
}

absl::Status Apply(YAML::Node root, const std::string& override_text) {
  const size_t eq = override_text.find('=');
  if (eq == std::string::npos || eq == 0) return Bad(override_text, "expected KEY=VALUE");
  const std::string key = override_text.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(override_text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    return Bad(key, absl::StrCat("value is not YAML: ", e.msg));
  }
  std::vector<std::string> path = absl::StrSplit(key, '.');
  YAML::Node node = root;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& part = path[i];
    if (part.empty()) return Bad(key, "empty path element");
    const bool last = i + 1 == path.size();
    if (node.IsSequence()) {
      size_t index;
      if (!absl::SimpleAtoi(part, &index) || index >= node.size())
        return Bad(key, absl::StrCat("\"", part, "\" is not an index of a list of ",
                                     node.size()));
      if (last) {
        node[index] = value;
        return absl::OkStatus();
      }
      node.reset(node[index]);
    } else if (node.IsMap() || node.IsNull()) {
      if (last) {
        node[part] = value;
        return absl::OkStatus();
      }
      YAML::Node child = node[part];
      if (!child.IsDefined() || child.IsNull()) {
        node[part] = YAML::Node(YAML::NodeType::Map);
      }
      node.reset(node[part]);
    } else {
      return Bad(key, absl::StrCat("\"", part, "\" is inside a scalar value"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ApplyOverrides(std::string_view yaml,
                                           const std::vector<std::string>& overrides) {
  if (overrides.empty()) return std::string(yaml);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("spec is not YAML: ", e.msg));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("spec is not a YAML mapping");
  for (const std::string& o : overrides) {
    absl::Status s = Apply(root, o);
    if (!s.ok()) return s;
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str());
}

}  // namespace caviar::client
