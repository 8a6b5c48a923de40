#include "runtime/wire.h"

#include <cstring>

namespace dr::runtime::wire {

bool read_varint(std::string_view s, size_t& i, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (i >= s.size()) return false;
    const auto c = static_cast<uint8_t>(s[i++]);
    v |= uint64_t(c & 0x7F) << shift;
    if (!(c & 0x80)) return true;
  }
  return false;
}

std::optional<std::vector<Field>> parse(std::string_view s) {
  std::vector<Field> out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    uint64_t key = 0;
    if (!read_varint(s, i, key)) return std::nullopt;
    Field f;
    f.num = uint32_t(key >> 3);
    f.wire = uint32_t(key & 7);
    switch (f.wire) {
      case Varint:
        if (!read_varint(s, i, f.value)) return std::nullopt;
        break;
      case Fixed64:
        if (s.size() - i < 8) return std::nullopt;
        std::memcpy(&f.value, s.data() + i, 8);
        i += 8;
        break;
      case Fixed32: {
        if (s.size() - i < 4) return std::nullopt;
        uint32_t v = 0;
        std::memcpy(&v, s.data() + i, 4);
        f.value = v;
        i += 4;
        break;
      }
      case Bytes: {
        uint64_t n = 0;
        if (!read_varint(s, i, n) || n > s.size() - i) return std::nullopt;
        f.bytes = s.substr(i, size_t(n));
        i += size_t(n);
        break;
      }
      default:
        return std::nullopt;  // groups: not in ONNX
    }
    f.whole = s.substr(start, i - start);
    out.push_back(f);
  }
  return out;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(uint8_t(v) | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

void put_varint_field(std::string& out, uint32_t num, uint64_t v) {
  put_varint(out, uint64_t(num) << 3 | Varint);
  put_varint(out, v);
}

void put_bytes(std::string& out, uint32_t num, std::string_view b) {
  put_varint(out, uint64_t(num) << 3 | Bytes);
  put_varint(out, b.size());
  out.append(b);
}

void put_float(std::string& out, uint32_t num, float f) {
  put_varint(out, uint64_t(num) << 3 | Fixed32);
  char b[4];
  std::memcpy(b, &f, 4);
  out.append(b, 4);
}

}  // namespace dr::runtime::wire
