// PDQ: a 256-bit perceptual hash of a photo, its quality score and its 8 dihedral variants (rotations and flips),
// computed the way the reference implementation (facebook/ThreatExchange pdq/cpp) computes them, so that fed the same
// pixels the hashes are bit-identical. Standard library only; no decoding here (see image/jpeg_fast.h and
// image/decode.h for pixels).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dr::pdq {

// 256 bits as the reference lays them out: bit 16*i + j (DCT row i, column j) is bit j of 16-bit word i; the hex
// string prints word 15 first, down to word 0 (64 lowercase hex digits).
struct Hash256 {
  std::array<uint16_t, 16> w{};

  bool bit(int k) const { return (w[k >> 4] >> (k & 15)) & 1; }
  void set_bit(int k) { w[k >> 4] = uint16_t(w[k >> 4] | (1u << (k & 15))); }
  bool is_zero() const;
  int popcount() const;
  int distance(const Hash256& o) const;  // Hamming distance, 0..256
  std::string hex() const;
  static std::optional<Hash256> from_hex(std::string_view s);  // 64 hex digits, either case; nullopt otherwise
  // The same bits as 4 little-endian 64-bit words (word k holds bits 64k..64k+63) and back: what indexes use.
  std::array<uint64_t, 4> to_u64() const;
  static Hash256 from_u64(const std::array<uint64_t, 4>& q);

  friend bool operator==(const Hash256&, const Hash256&) = default;
};

// The dihedral variants in the reference's order.
enum class Dihedral { original, rot90, rot180, rot270, flip_x, flip_y, flip_plus1, flip_minus1 };
inline constexpr int kNumDihedral = 8;
const char* dihedral_name(Dihedral d);

// Images with a side below this get an all-zero hash of quality 0 (as the reference does); callers that hash files
// should treat such images as an error rather than print a meaningless hash.
inline constexpr int kMinHashableSide = 5;

// The reference's --exact input rule: images with a side above 512 are resized to exactly 512x512 by
// nearest-neighbour sampling (source pixel floor(x * W / 512)), ignoring the aspect ratio.
inline constexpr int kExactSide = 512;

struct Result {
  Hash256 hash;
  int quality = 0;                               // 0..100; below 50 the hash should not be trusted
  std::array<Hash256, kNumDihedral> dihedral{};  // filled only when asked; dihedral[0] == hash
};

// 16x16 DCT coefficients (row-major), what the bits are thresholded from.
using Dct16 = std::array<float, 256>;

// Luma as the reference computes it: 0.299 R + 0.587 G + 0.114 B in float. `rgb` is interleaved 8-bit RGB with
// `stride` bytes per row.
void luma_from_rgb(const uint8_t* rgb, int width, int height, size_t stride, float* out);
void luma_from_grey(const uint8_t* grey, int width, int height, size_t stride, float* out);

// The source columns (or rows) a nearest-neighbour resize from `side` to `out` pixels samples: floor(k * side / out)
// for k = 0..out-1, as the reference's input path samples them.
std::vector<int> nearest_positions(int side, int out);

// Nearest-neighbour resize of interleaved 8-bit pixels (`channels` per pixel) to out_w x out_h, sampling the
// pixels of nearest_positions(), as the reference's input path does.
std::vector<uint8_t> resize_nearest(const uint8_t* px, int width, int height, int channels, int out_w, int out_h);

// The hashing core. Reuses its scratch buffers, so keep one per thread.
class Hasher {
 public:
  // Hashes a float luma plane (row-major, width x height); `luma` is used as scratch and overwritten. `view` turns
  // the result into that of the plane seen through a rotation or flip, computed in the DCT domain as the reference
  // computes its dihedral hashes (so an EXIF-rotated photo hashes to the reference's matching dihedral hash of
  // its stored pixels). With `dihedral`, Result::dihedral holds the 8 variants of that view.
  Result hash_luma(float* luma, int width, int height, bool dihedral = false, Dihedral view = Dihedral::original);

  // The steps, exposed for tests and benchmarks. downsample64 blurs `luma` in place (two passes of the box filter,
  // horizontal then vertical) and samples it to 64x64.
  void downsample64(float* luma, int width, int height, float* out64x64);

 private:
  std::vector<float> scratch_;
};

int quality_64(const float* buf64x64);
void dct64_to_16(const float* buf64x64, Dct16& out);
// The coefficients of the transformed image, from those of the original.
Dct16 transform_dct(const Dct16& c, Dihedral d);
// A bit is 1 where its coefficient is strictly above the median (the 128th smallest of the 256).
Hash256 threshold(const Dct16& c);

// The dihedral variant computed from the hash bits alone (for stored hashes whose coefficients are gone): bits are
// permuted by the transpose and complemented where the reference negates the coefficient. Exact for the transposes
// (original, flip_plus1); for the others it assumes the median of the negated coefficients mirrors the original's,
// which holds to a few bits on photos. Distances are preserved: d(T(a), T(b)) == d(a, b).
Hash256 transform_hash(const Hash256& h, Dihedral d);

// The variant that shows an image stored with EXIF orientation `orientation` (1..8) as it is displayed, given the
// hash of the stored pixels: the hash of the displayed image is transform_dct(stored, dihedral_for_orientation(o)).
Dihedral dihedral_for_orientation(int orientation);

}  // namespace dr::pdq
