#include "server/http/proto_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
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

// The shortest text that reads back as the same number (std::to_chars),
// which is what protobuf's SimpleDtoa/SimpleFtoa aim at too.
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
  const std::to_chars_result end =
      is_float ? std::to_chars(buffer, buffer + sizeof(buffer), static_cast<float>(value))
               : std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end.ptr);
}

// RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as protobuf prints.
// The civil date from days since 1970-01-01 (H. Hinnant's algorithm): a
// time-zone library is 10 times slower for this one fixed zone.
void AppendTimestamp(const Message& message, std::string* out) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  const int64_t seconds = r->GetInt64(message, d->FindFieldByNumber(1));
  const int32_t nanos = r->GetInt32(message, d->FindFieldByNumber(2));
  const int64_t days = (seconds >= 0 ? seconds : seconds - 86399) / 86400;
  const int64_t second_of_day = seconds - days * 86400;
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char text[48];
  int n = std::snprintf(text, sizeof(text), "\"%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                        static_cast<long long>(year), static_cast<long long>(month),
                        static_cast<long long>(day),
                        static_cast<long long>(second_of_day / 3600),
                        static_cast<long long>(second_of_day / 60 % 60),
                        static_cast<long long>(second_of_day % 60));
  if (nanos != 0) {
    if (nanos % 1000000 == 0) {
      n += std::snprintf(text + n, sizeof(text) - n, ".%03d", nanos / 1000000);
    } else if (nanos % 1000 == 0) {
      n += std::snprintf(text + n, sizeof(text) - n, ".%06d", nanos / 1000);
    } else {
      n += std::snprintf(text + n, sizeof(text) - n, ".%09d", nanos);
    }
  }
  out->append(text, n);
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
