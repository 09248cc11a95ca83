// The command line's JSON style (client/format.h: ToJson), by reflection so
// every message, including fields added later, is written the same way.
#include <cmath>
#include <map>

#include "absl/strings/escaping.h"
#include "client/format.h"
#include "common/parameter_value/parameter_value_json.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace caviar::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

Json DoubleJson(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

// Struct, Value, ListValue and wrappers: protobuf's own JSON, which is
// already plain.
Json ProtobufJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    return nullptr;
  }
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

Json MessageJson(const Message& message);

// Element `index` of a repeated field, or the singular field if index < 0.
Json FieldValueJson(const Message& message, const FieldDescriptor* field, int index) {
  const Reflection* r = message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return repeated ? r->GetRepeatedInt32(message, field, index)
                      : r->GetInt32(message, field);
    case FieldDescriptor::CPPTYPE_INT64:
      return repeated ? r->GetRepeatedInt64(message, field, index)
                      : r->GetInt64(message, field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? r->GetRepeatedUInt32(message, field, index)
                      : r->GetUInt32(message, field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return repeated ? r->GetRepeatedUInt64(message, field, index)
                      : r->GetUInt64(message, field);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return DoubleJson(repeated ? r->GetRepeatedDouble(message, field, index)
                                 : r->GetDouble(message, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return DoubleJson(repeated ? r->GetRepeatedFloat(message, field, index)
                                 : r->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? r->GetRepeatedBool(message, field, index)
                      : r->GetBool(message, field);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r->GetRepeatedEnumValue(message, field, index)
                                  : r->GetEnumValue(message, field);
      const auto* value = field->enum_type()->FindValueByNumber(number);
      if (value == nullptr) return number;
      return value->name();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string text = repeated ? r->GetRepeatedString(message, field, index)
                                  : r->GetString(message, field);
      if (field->type() == FieldDescriptor::TYPE_BYTES) return absl::Base64Escape(text);
      return text;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageJson(repeated ? r->GetRepeatedMessage(message, field, index)
                                  : r->GetMessage(message, field));
  }
  return nullptr;
}

// A map's key as an object key: its text.
std::string MapKeyText(const Message& entry) {
  const FieldDescriptor* key = entry.GetDescriptor()->map_key();
  Json json = FieldValueJson(entry, key, -1);
  return json.is_string() ? json.get<std::string>() : json.dump();
}

Json MessageJson(const Message& message) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "caviar.v1.ParameterValue") {
    return ParameterValueJson(static_cast<const caviar::v1::ParameterValue&>(message));
  }
  if (type == "google.protobuf.Timestamp") {
    google::protobuf::Timestamp time;
    time.CopyFrom(message);
    return google::protobuf::util::TimeUtil::ToString(time);
  }
  if (type.rfind("google.protobuf.", 0) == 0) return ProtobufJson(message);

  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  Json object = Json::object();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_map()) {
      if (r->FieldSize(message, field) == 0) continue;
      // Keys sorted: the map's own order is a hash order.
      std::map<std::string, Json> sorted;
      for (int k = 0; k < r->FieldSize(message, field); ++k) {
        const Message& entry = r->GetRepeatedMessage(message, field, k);
        sorted[MapKeyText(entry)] =
            FieldValueJson(entry, entry.GetDescriptor()->map_value(), -1);
      }
      Json map = Json::object();
      for (auto& [key, value] : sorted) map[key] = std::move(value);
      object[field->name()] = std::move(map);
    } else if (field->is_repeated()) {
      if (r->FieldSize(message, field) == 0) continue;
      Json array = Json::array();
      for (int k = 0; k < r->FieldSize(message, field); ++k) {
        array.push_back(FieldValueJson(message, field, k));
      }
      object[field->name()] = std::move(array);
    } else if (r->HasField(message, field)) {
      object[field->name()] = FieldValueJson(message, field, -1);
    }
  }
  return object;
}

}  // namespace

Json ToJson(const Message& message) { return MessageJson(message); }

std::string JsonText(const Json& json) {
  // A trial's failure reason is a program's output: not always UTF-8.
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string JsonLine(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string MessageToJson(const Message& message) { return JsonText(ToJson(message)); }

}  // namespace caviar::client
