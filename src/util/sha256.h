// SHA-256 (FIPS 180-4), written here: model files and photo contents are identified by it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dr::util {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // Finishes and returns the digest as 64 lowercase hex digits; the object must not be updated afterwards.
  std::string hex();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
// Hashes a file's bytes; throws std::runtime_error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace dr::util
