#include "server/http/proto_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace caviar::http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void AppendString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out->append(escaped);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// protobuf's SimpleDtoa/SimpleFtoa: the shortest of 15 (6 for float)
// and 17 (9) significant digits that reads back exactly.
void AppendDouble(double value, bool is_float, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buffer[32];
  if (is_float) {
    const float f = static_cast<float>(value);
    std::snprintf(buffer, sizeof(buffer), "%.*g", 6, f);
    if (std::strtof(buffer, nullptr) != f)
      std::snprintf(buffer, sizeof(buffer), "%.*g", 9, f);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.*g", 15, value);
    if (std::strtod(buffer, nullptr) != value)
      std::snprintf(buffer, sizeof(buffer), "%.*g", 17, value);
  }
  out->append(buffer);
}

// RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as protobuf prints.
void AppendTimestamp(const Message& message, std::string* out) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  const int64_t seconds = r->GetInt64(message, d->FindFieldByNumber(1));
  const int32_t nanos = r->GetInt32(message, d->FindFieldByNumber(2));
  out->push_back('"');
  out->append(absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(seconds),
                               absl::UTCTimeZone()));
  if (nanos != 0) {
    char fraction[16];
    if (nanos % 1000000 == 0) {
      std::snprintf(fraction, sizeof(fraction), ".%03d", nanos / 1000000);
    } else if (nanos % 1000 == 0) {
      std::snprintf(fraction, sizeof(fraction), ".%06d", nanos / 1000);
    } else {
      std::snprintf(fraction, sizeof(fraction), ".%09d", nanos);
    }
    out->append(fraction);
  }
  out->append("Z\"");
}

void AppendMessage(const Message& message, std::string* out);

void AppendValue(const Message& message, const FieldDescriptor* field, int index,
                 std::string* out) {
  const Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, repeated ? r->GetRepeatedInt32(message, field, index)
                                    : r->GetInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, repeated ? r->GetRepeatedUInt32(message, field, index)
                                    : r->GetUInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, "\"",
                      repeated ? r->GetRepeatedInt64(message, field, index)
                               : r->GetInt64(message, field),
                      "\"");
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, "\"",
                      repeated ? r->GetRepeatedUInt64(message, field, index)
                               : r->GetUInt64(message, field),
                      "\"");
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(repeated ? r->GetRepeatedDouble(message, field, index)
                            : r->GetDouble(message, field),
                   false, out);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendDouble(repeated ? r->GetRepeatedFloat(message, field, index)
                            : r->GetFloat(message, field),
                   true, out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((repeated ? r->GetRepeatedBool(message, field, index)
                            : r->GetBool(message, field))
                      ? "true"
                      : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r->GetRepeatedEnumValue(message, field, index)
                                  : r->GetEnumValue(message, field);
      const auto* value = field->enum_type()->FindValueByNumber(number);
      if (value != nullptr) {
        AppendString(value->name(), out);
      } else {
        absl::StrAppend(out, number);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& text =
          repeated ? r->GetRepeatedStringReference(message, field, index, &scratch)
                   : r->GetStringReference(message, field, &scratch);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        AppendString(absl::Base64Escape(text), out);
      } else {
        AppendString(text, out);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(repeated ? r->GetRepeatedMessage(message, field, index)
                             : r->GetMessage(message, field),
                    out);
      break;
  }
}

// A map field: a JSON object keyed by the entry's key as a string.
void AppendMap(const Message& message, const FieldDescriptor* field, std::string* out) {
  const Reflection* r = message.GetReflection();
  const FieldDescriptor* key = field->message_type()->map_key();
  const FieldDescriptor* value = field->message_type()->map_value();
  out->push_back('{');
  const int size = r->FieldSize(message, field);
  for (int i = 0; i < size; ++i) {
    if (i > 0) out->push_back(',');
    const Message& entry = r->GetRepeatedMessage(message, field, i);
    if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      AppendValue(entry, key, -1, out);
    } else {
      std::string text;
      AppendValue(entry, key, -1, &text);
      if (text.front() != '"') text = absl::StrCat("\"", text, "\"");
      out->append(text);
    }
    out->push_back(':');
    AppendValue(entry, value, -1, out);
  }
  out->push_back('}');
}

// google.protobuf.Value: whichever kind is set, as plain JSON.
void AppendStructValue(const Message& message, std::string* out) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  const auto* kind = r->GetOneofFieldDescriptor(message, d->FindOneofByName("kind"));
  if (kind == nullptr || kind->name() == "null_value") {
    out->append("null");
  } else if (kind->name() == "list_value") {
    const Message& list = r->GetMessage(message, kind);
    const FieldDescriptor* values = list.GetDescriptor()->FindFieldByName("values");
    out->push_back('[');
    for (int i = 0; i < list.GetReflection()->FieldSize(list, values); ++i) {
      if (i > 0) out->push_back(',');
      AppendStructValue(list.GetReflection()->GetRepeatedMessage(list, values, i), out);
    }
    out->push_back(']');
  } else {
    AppendValue(message, kind, -1, out);  // number, string, bool, struct.
  }
}

void AppendMessage(const Message& message, std::string* out) {
  const Descriptor* d = message.GetDescriptor();
  const std::string& type = d->full_name();
  if (type == "google.protobuf.Timestamp") return AppendTimestamp(message, out);
  if (type == "google.protobuf.Value") return AppendStructValue(message, out);
  if (type == "google.protobuf.Struct") {
    return AppendMap(message, d->FindFieldByName("fields"), out);
  }
  if (d->file()->name().rfind("google/protobuf/", 0) == 0) {
    // Other well-known types (ListValue alone, Duration, wrappers, Any,
    // FieldMask): not in caviar's messages today.
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string text;
    (void)google::protobuf::util::MessageToJsonString(message, &text, options);
    out->append(text);
    return;
  }
  const Reflection* r = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(message, &fields);  // Set fields, by number.
  out->push_back('{');
  bool first = true;
  for (const FieldDescriptor* field : fields) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(field->name(), out);
    out->push_back(':');
    if (field->is_map()) {
      AppendMap(message, field, out);
    } else if (field->is_repeated()) {
      out->push_back('[');
      const int size = r->FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        if (i > 0) out->push_back(',');
        AppendValue(message, field, i, out);
      }
      out->push_back(']');
    } else {
      AppendValue(message, field, -1, out);
    }
  }
  out->push_back('}');
}

}  // namespace

void AppendProtoJson(const google::protobuf::Message& message, std::string* out) {
  AppendMessage(message, out);
}

void AppendJsonString(absl::string_view text, std::string* out) { AppendString(text, out); }

void AppendJsonNumber(double value, std::string* out) { AppendDouble(value, false, out); }

}  // namespace caviar::http
