// The protobuf wire format, as much as reading and writing ONNX models needs: a message is a list of fields, each a
// key (field number << 3 | wire type) and a varint, a 64- or 32-bit value, or length-delimited bytes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dr::runtime::wire {

enum Wire : uint32_t { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

struct Field {
  uint32_t num = 0;
  uint32_t wire = 0;
  uint64_t value = 0;      // Varint, Fixed64, Fixed32
  std::string_view bytes;  // Bytes
  std::string_view whole;  // the field as encoded, key included
};

// Reads a varint at s[i], advancing i; false when it runs past the end or over 64 bits.
bool read_varint(std::string_view s, size_t& i, uint64_t& v);
// The fields of one message, pointing into `s`; nullopt when it is not well-formed (groups count as malformed).
std::optional<std::vector<Field>> parse(std::string_view s);

void put_varint(std::string& out, uint64_t v);
void put_varint_field(std::string& out, uint32_t num, uint64_t v);  // int64 values as two's complement
void put_bytes(std::string& out, uint32_t num, std::string_view b);
void put_float(std::string& out, uint32_t num, float f);

}  // namespace dr::runtime::wire
