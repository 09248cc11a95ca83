#include "storage/trial_row.h"

#include <cstdint>
#include <cstring>

namespace caviar::storage {
namespace {

constexpr uint32_t kMeasurementsField = caviar::v1::Trial::kMeasurementsFieldNumber;
constexpr int kWireVarint = 0, kWireFixed64 = 1, kWireLength = 2, kWireFixed32 = 5;

// Reads a varint at *pos; false if truncated or too long.
bool ReadVarint(const char* data, size_t size, size_t* pos, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && *pos < size; shift += 7) {
    uint8_t byte = static_cast<uint8_t>(data[(*pos)++]);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

// Removes every `measurements` record from the serialized trial in place.
// Serializing the whole message and dropping one field keeps this correct
// for fields added later, without copying the (possibly long) curve into a
// scratch message first.
bool StripMeasurements(std::string* wire) {
  char* data = wire->data();
  const size_t size = wire->size();
  size_t read = 0, write = 0;
  while (read < size) {
    const size_t start = read;
    uint64_t tag, length;
    if (!ReadVarint(data, size, &read, &tag)) return false;
    switch (tag & 7) {
      case kWireVarint:
        if (!ReadVarint(data, size, &read, &length)) return false;
        break;
      case kWireFixed64:
        read += 8;
        break;
      case kWireFixed32:
        read += 4;
        break;
      case kWireLength:
        if (!ReadVarint(data, size, &read, &length) || length > size - read) {
          return false;
        }
        read += length;
        break;
      default:  // Groups do not exist in proto3.
        return false;
    }
    if (read > size) return false;
    if ((tag >> 3) == kMeasurementsField) continue;
    if (write != start) std::memmove(data + write, data + start, read - start);
    write += read - start;
  }
  wire->resize(write);
  return true;
}

}  // namespace

void SerializeTrialRow(const caviar::v1::Trial& trial, std::string* out) {
  out->clear();
  trial.AppendToString(out);
  if (trial.measurements_size() == 0) return;
  if (StripMeasurements(out)) return;
  // Unreachable for messages we serialized ourselves; stay correct anyway.
  caviar::v1::Trial copy = trial;
  copy.clear_measurements();
  out->clear();
  copy.AppendToString(out);
}

}  // namespace caviar::storage
