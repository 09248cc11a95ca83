// MessageToYaml / SpecToYaml (declared in spec_loader.h): the inverse of
// YamlToMessage, walking the message by reflection.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "client/spec_loader.h"
#include "client/yaml_scalars.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/time_util.h"

namespace caviar::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// A string that a reader would take for a number, bool or null is quoted.
void EmitString(YAML::Emitter& out, const std::string& text) {
  bool flag = false;
  if (yaml_scalars::IsInt(text) || yaml_scalars::IsFloat(text) ||
      yaml_scalars::IsBool(text, &flag) || yaml_scalars::IsNull(text)) {
    out << YAML::DoubleQuoted << text;
  } else {
    out << text;
  }
}

void EmitValue(YAML::Emitter& out, const google::protobuf::Value& value);

void EmitStruct(YAML::Emitter& out, const google::protobuf::Struct& value) {
  std::vector<std::string> keys;
  for (const auto& [key, unused] : value.fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  out << YAML::BeginMap;
  for (const std::string& key : keys) {
    out << YAML::Key << key << YAML::Value;
    EmitValue(out, value.fields().at(key));
  }
  out << YAML::EndMap;
}

void EmitValue(YAML::Emitter& out, const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      out << yaml_scalars::FormatDouble(value.number_value());
      break;
    case google::protobuf::Value::kStringValue:
      EmitString(out, value.string_value());
      break;
    case google::protobuf::Value::kBoolValue:
      out << (value.bool_value() ? "true" : "false");
      break;
    case google::protobuf::Value::kStructValue:
      EmitStruct(out, value.struct_value());
      break;
    case google::protobuf::Value::kListValue:
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& element : value.list_value().values()) EmitValue(out, element);
      out << YAML::EndSeq;
      break;
    default:
      out << YAML::Null;
      break;
  }
}

void EmitMessage(YAML::Emitter& out, const Message& message);

void EmitScalar(YAML::Emitter& out, const Message& message, const FieldDescriptor* field,
                int index) {
  const Reflection* r = message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out << std::to_string(repeated ? r->GetRepeatedInt32(message, field, index)
                                     : r->GetInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out << std::to_string(repeated ? r->GetRepeatedInt64(message, field, index)
                                     : r->GetInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out << std::to_string(repeated ? r->GetRepeatedUInt32(message, field, index)
                                     : r->GetUInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out << std::to_string(repeated ? r->GetRepeatedUInt64(message, field, index)
                                     : r->GetUInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out << yaml_scalars::FormatDouble(repeated
                                            ? r->GetRepeatedDouble(message, field, index)
                                            : r->GetDouble(message, field));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out << yaml_scalars::FormatDouble(repeated
                                            ? r->GetRepeatedFloat(message, field, index)
                                            : r->GetFloat(message, field));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out << ((repeated ? r->GetRepeatedBool(message, field, index)
                        : r->GetBool(message, field))
                  ? "true"
                  : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out << (repeated ? r->GetRepeatedEnum(message, field, index)
                       : r->GetEnum(message, field))
                 ->name();
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      EmitString(out, repeated ? r->GetRepeatedString(message, field, index)
                               : r->GetString(message, field));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      EmitMessage(out, repeated ? r->GetRepeatedMessage(message, field, index)
                                : r->GetMessage(message, field));
      break;
  }
}

// Small messages of scalars (and short scalar lists) read best on one line:
// `double: {min: 0.0001, max: 1}`, `categorical: {values: [adam, sgd]}`.
bool FitsOnOneLine(const Message& message) {
  std::vector<const FieldDescriptor*> fields;
  const Reflection* r = message.GetReflection();
  r->ListFields(message, &fields);
  if (fields.empty()) return true;  // `external: {}`, not "{}" on a line of its own.
  if (fields.size() > 3) return false;
  size_t width = 0;
  for (const FieldDescriptor* field : fields) {
    if (field->is_map() || field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
      return false;
    if (!field->is_repeated()) continue;
    const int size = r->FieldSize(message, field);
    if (size > 8) return false;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      for (int i = 0; i < size; ++i)
        width += r->GetRepeatedString(message, field, i).size() + 2;
    } else {
      width += 10 * size;
    }
  }
  return width < 60;
}

void EmitMap(YAML::Emitter& out, const Message& message, const FieldDescriptor* field) {
  const Reflection* r = message.GetReflection();
  const Descriptor* entry_type = field->message_type();
  const FieldDescriptor* key_field = entry_type->map_key();
  const FieldDescriptor* value_field = entry_type->map_value();
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0; i < r->FieldSize(message, field); ++i) {
    const Message& entry = r->GetRepeatedMessage(message, field, i);
    const Reflection* er = entry.GetReflection();
    std::string key;
    switch (key_field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        key = er->GetString(entry, key_field);
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        key = std::to_string(er->GetInt32(entry, key_field));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        key = std::to_string(er->GetInt64(entry, key_field));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        key = std::to_string(er->GetUInt32(entry, key_field));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        key = std::to_string(er->GetUInt64(entry, key_field));
        break;
      default:
        key = er->GetBool(entry, key_field) ? "true" : "false";
        break;
    }
    entries.emplace_back(key, &entry);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out << YAML::BeginMap;
  for (const auto& [key, entry] : entries) {
    out << YAML::Key;
    EmitString(out, key);
    out << YAML::Value;
    EmitScalar(out, *entry, value_field, -1);
  }
  out << YAML::EndMap;
}

void EmitField(YAML::Emitter& out, const Message& message, const FieldDescriptor* field) {
  const Reflection* r = message.GetReflection();
  if (field->is_map()) {
    EmitMap(out, message, field);
    return;
  }
  if (!field->is_repeated()) {
    EmitScalar(out, message, field, -1);
    return;
  }
  const int size = r->FieldSize(message, field);
  const bool scalars = field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE;
  size_t width = 0;
  if (scalars && field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    for (int i = 0; i < size; ++i)
      width += r->GetRepeatedString(message, field, i).size() + 2;
  }
  if (scalars && width < 70) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (int i = 0; i < size; ++i) EmitScalar(out, message, field, i);
  out << YAML::EndSeq;
}

void EmitMessage(YAML::Emitter& out, const Message& message) {
  const Descriptor* type = message.GetDescriptor();
  const std::string& name = type->full_name();
  if (name == "google.protobuf.Struct") {
    google::protobuf::Struct value;
    value.CopyFrom(message);
    EmitStruct(out, value);
    return;
  }
  if (name == "google.protobuf.Value") {
    google::protobuf::Value value;
    value.CopyFrom(message);
    EmitValue(out, value);
    return;
  }
  if (name == "google.protobuf.Timestamp") {
    google::protobuf::Timestamp value;
    value.CopyFrom(message);
    out << google::protobuf::util::TimeUtil::ToString(value);
    return;
  }
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  if (FitsOnOneLine(message)) out << YAML::Flow;
  out << YAML::BeginMap;
  for (const FieldDescriptor* field : fields) {
    out << YAML::Key << field->name() << YAML::Value;
    EmitField(out, message, field);
  }
  out << YAML::EndMap;
}

}  // namespace

std::string MessageToYaml(const Message& message) {
  YAML::Emitter out;
  out.SetIndent(2);
  EmitMessage(out, message);
  std::string text = out.c_str();
  if (text == "{}") return "{}\n";
  return text + "\n";
}

std::string SpecToYaml(const caviar::v1::StudySpec& spec) { return MessageToYaml(spec); }

}  // namespace caviar::client
