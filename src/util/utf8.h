// UTF-8 text measured in characters rather than bytes.
#pragma once
#include <cstddef>
#include <string_view>

namespace dr::util {

// The number of characters (code points) in UTF-8 text: every byte that does not continue a character.
inline size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace dr::util
