// The PDQ core. Every floating-point step is ordered as the reference orders it (sequential float sums, the same
// constants), because a hash bit flips when a coefficient crosses the median: bit-identity with the reference needs
// identical arithmetic, not just an equivalent formula. Loops are arranged so the compiler can vectorise them
// across independent sums without changing any sum's order.
#include "pdq/pdq.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>

namespace dr::pdq {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr float kLumaR = 0.299f, kLumaG = 0.587f, kLumaB = 0.114f;

// D[i][j] = sqrt(2/64) cos(pi (i+1)(2j+1) / 128), rows 1..16 of the 64-point DCT-II. The scale factor is rounded
// to float before the product, as in the reference.
struct DctMatrix {
  float d[16][64];   // D
  float dt[64][16];  // D transposed, for the second product
  DctMatrix() {
    const float scale = static_cast<float>(std::sqrt(2.0 / 64.0));
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < 64; j++) {
        double angle = (kPi / 2.0 / 64.0) * double(i + 1) * double(2 * j + 1);
        d[i][j] = static_cast<float>(scale * std::cos(angle));
        dt[j][i] = d[i][j];
      }
    }
  }
};

const DctMatrix& dct_matrix() {
  static const DctMatrix m;
  return m;
}

// One pass of the reference's box filter over a row (stride 1): the window grows from half size at the start and
// shrinks at the end; the running sum is a float updated in place.
void box_row(const float* in, float* out, int n, int window) {
  const int half = (window + 2) / 2;
  const int p1 = half - 1, p2 = window - half + 1, p3 = n - window, p4 = half - 1;
  int li = 0, ri = 0, oi = 0, count = 0;
  float sum = 0.0f;
  for (int i = 0; i < p1; i++) {
    sum += in[ri++];
    count++;
  }
  for (int i = 0; i < p2; i++) {
    sum += in[ri++];
    count++;
    out[oi++] = sum / count;
  }
  for (int i = 0; i < p3; i++) {
    sum += in[ri++];
    sum -= in[li++];
    out[oi++] = sum / count;
  }
  for (int i = 0; i < p4; i++) {
    sum -= in[li++];
    count--;
    out[oi++] = sum / count;
  }
}

// The same filter down every column at once: one running sum per column, each updated in the order box_row would
// update it, so the results are identical to filtering column by column.
void box_cols(const float* in, float* out, int rows, int cols, int window, std::vector<float>& sums) {
  const int half = (window + 2) / 2;
  const int p1 = half - 1, p2 = window - half + 1, p3 = rows - window, p4 = half - 1;
  sums.assign(size_t(cols), 0.0f);
  float* s = sums.data();
  int li = 0, ri = 0, oi = 0, count = 0;
  auto row = [&](const float* base, int r) { return base + size_t(r) * cols; };
  for (int i = 0; i < p1; i++) {
    const float* a = row(in, ri++);
    for (int j = 0; j < cols; j++) s[j] += a[j];
    count++;
  }
  for (int i = 0; i < p2; i++) {
    const float* a = row(in, ri++);
    float* o = out + size_t(oi++) * cols;
    count++;
    for (int j = 0; j < cols; j++) {
      s[j] += a[j];
      o[j] = s[j] / count;
    }
  }
  for (int i = 0; i < p3; i++) {
    const float* a = row(in, ri++);
    const float* b = row(in, li++);
    float* o = out + size_t(oi++) * cols;
    for (int j = 0; j < cols; j++) {
      s[j] += a[j];
      s[j] -= b[j];
      o[j] = s[j] / count;
    }
  }
  for (int i = 0; i < p4; i++) {
    const float* b = row(in, li++);
    float* o = out + size_t(oi++) * cols;
    count--;
    for (int j = 0; j < cols; j++) {
      s[j] -= b[j];
      o[j] = s[j] / count;
    }
  }
}

int window_for(int old_side) { return (old_side + 2 * 64 - 1) / (2 * 64); }

// Whether the reference negates coefficient (i, j) for a variant (i: vertical frequency, j: horizontal).
bool negated(Dihedral d, int i, int j) {
  switch (d) {
    case Dihedral::original:
    case Dihedral::flip_plus1:
      return false;
    case Dihedral::rot90:
      return (j & 1) == 0;
    case Dihedral::rot180:
    case Dihedral::flip_minus1:
      return ((i + j) & 1) != 0;
    case Dihedral::rot270:
    case Dihedral::flip_x:
      return (i & 1) == 0;
    case Dihedral::flip_y:
      return (j & 1) == 0;
  }
  return false;
}

// Whether the variant transposes the coefficient matrix.
bool transposed(Dihedral d) {
  return d == Dihedral::rot90 || d == Dihedral::rot270 || d == Dihedral::flip_plus1 || d == Dihedral::flip_minus1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// ---- Hash256 ----

bool Hash256::is_zero() const {
  return std::all_of(w.begin(), w.end(), [](uint16_t x) { return x == 0; });
}

int Hash256::popcount() const {
  int n = 0;
  for (uint64_t q : to_u64()) n += std::popcount(q);
  return n;
}

int Hash256::distance(const Hash256& o) const {
  auto a = to_u64(), b = o.to_u64();
  return std::popcount(a[0] ^ b[0]) + std::popcount(a[1] ^ b[1]) + std::popcount(a[2] ^ b[2]) +
         std::popcount(a[3] ^ b[3]);
}

std::string Hash256::hex() const {
  static const char* digits = "0123456789abcdef";
  std::string s(64, '0');
  for (int k = 0; k < 16; k++) {
    uint16_t v = w[15 - k];
    for (int n = 0; n < 4; n++) s[size_t(4 * k + n)] = digits[(v >> (12 - 4 * n)) & 15];
  }
  return s;
}

std::optional<Hash256> Hash256::from_hex(std::string_view s) {
  if (s.size() != 64) return std::nullopt;
  Hash256 h;
  for (int k = 0; k < 16; k++) {
    unsigned v = 0;
    for (int n = 0; n < 4; n++) {
      int d = hex_value(s[size_t(4 * k + n)]);
      if (d < 0) return std::nullopt;
      v = (v << 4) | unsigned(d);
    }
    h.w[size_t(15 - k)] = uint16_t(v);
  }
  return h;
}

std::array<uint64_t, 4> Hash256::to_u64() const {
  std::array<uint64_t, 4> q{};
  for (int k = 0; k < 16; k++) q[size_t(k / 4)] |= uint64_t(w[size_t(k)]) << (16 * (k % 4));
  return q;
}

Hash256 Hash256::from_u64(const std::array<uint64_t, 4>& q) {
  Hash256 h;
  for (int k = 0; k < 16; k++) h.w[size_t(k)] = uint16_t(q[size_t(k / 4)] >> (16 * (k % 4)));
  return h;
}

const char* dihedral_name(Dihedral d) {
  static const char* names[] = {"original", "rot90", "rot180", "rot270", "flipX", "flipY", "flipPlus1", "flipMinus1"};
  return names[static_cast<int>(d)];
}

// ---- pixels to luma ----

void luma_from_rgb(const uint8_t* rgb, int width, int height, size_t stride, float* out) {
  for (int y = 0; y < height; y++) {
    const uint8_t* p = rgb + size_t(y) * stride;
    float* o = out + size_t(y) * width;
    for (int x = 0; x < width; x++, p += 3) o[x] = kLumaR * p[0] + kLumaG * p[1] + kLumaB * p[2];
  }
}

void luma_from_grey(const uint8_t* grey, int width, int height, size_t stride, float* out) {
  for (int y = 0; y < height; y++) {
    const uint8_t* p = grey + size_t(y) * stride;
    float* o = out + size_t(y) * width;
    for (int x = 0; x < width; x++) o[x] = float(p[x]);
  }
}

std::vector<int> nearest_positions(int side, int out) {
  std::vector<int> pos(static_cast<size_t>(out));
  for (int k = 0; k < out; k++) pos[size_t(k)] = int(int64_t(k) * side / out);
  return pos;
}

std::vector<uint8_t> resize_nearest(const uint8_t* px, int width, int height, int channels, int out_w, int out_h) {
  std::vector<uint8_t> out(size_t(out_w) * out_h * channels);
  const std::vector<int> xs = nearest_positions(width, out_w), ys = nearest_positions(height, out_h);
  uint8_t* o = out.data();
  for (int y : ys) {
    const uint8_t* row = px + size_t(y) * width * channels;
    for (int x : xs)
      for (int c = 0; c < channels; c++) *o++ = row[size_t(x) * channels + c];
  }
  return out;
}

// ---- the hash ----

void Hasher::downsample64(float* luma, int width, int height, float* out64x64) {
  const size_t n = size_t(width) * height;
  if (scratch_.size() < n) scratch_.resize(n);
  float* tmp = scratch_.data();
  const int wrow = window_for(width), wcol = window_for(height);
  std::vector<float> sums;
  for (int pass = 0; pass < 2; pass++) {
    for (int y = 0; y < height; y++) box_row(luma + size_t(y) * width, tmp + size_t(y) * width, width, wrow);
    box_cols(tmp, luma, height, width, wcol, sums);
  }
  for (int i = 0; i < 64; i++) {
    const int yi = static_cast<int>(((i + 0.5) * height) / 64);
    for (int j = 0; j < 64; j++) {
      const int xj = static_cast<int>(((j + 0.5) * width) / 64);
      out64x64[i * 64 + j] = luma[size_t(yi) * width + xj];
    }
  }
}

int quality_64(const float* b) {
  int sum = 0;
  for (int i = 0; i < 63; i++) {
    for (int j = 0; j < 64; j++) {
      float u = b[i * 64 + j], v = b[(i + 1) * 64 + j];
      int d = static_cast<int>(((u - v) * 100) / 255);
      sum += std::abs(d);
    }
  }
  for (int i = 0; i < 64; i++) {
    for (int j = 0; j < 63; j++) {
      float u = b[i * 64 + j], v = b[i * 64 + j + 1];
      int d = static_cast<int>(((u - v) * 100) / 255);
      sum += std::abs(d);
    }
  }
  return std::min(100, sum / 90);
}

void dct64_to_16(const float* a, Dct16& out) {
  const DctMatrix& m = dct_matrix();
  // T = D A (16x64): T[i][j] = sum over k, in order, of D[i][k] A[k][j].
  float t[16][64];
  for (int i = 0; i < 16; i++) {
    float* ti = t[i];
    for (int j = 0; j < 64; j++) ti[j] = 0.0f;
    for (int k = 0; k < 64; k++) {
      const float d = m.d[i][k];
      const float* ak = a + k * 64;
      for (int j = 0; j < 64; j++) ti[j] += d * ak[j];
    }
  }
  // B = T D^T (16x16): B[i][j] = sum over k, in order, of T[i][k] D[j][k].
  for (int i = 0; i < 16; i++) {
    float* bi = out.data() + i * 16;
    for (int j = 0; j < 16; j++) bi[j] = 0.0f;
    for (int k = 0; k < 64; k++) {
      const float tk = t[i][k];
      const float* dk = m.dt[k];
      for (int j = 0; j < 16; j++) bi[j] += tk * dk[j];
    }
  }
}

Dct16 transform_dct(const Dct16& c, Dihedral d) {
  Dct16 out;
  const bool tr = transposed(d);
  for (int i = 0; i < 16; i++) {
    for (int j = 0; j < 16; j++) {
      float v = c[size_t(i * 16 + j)];
      if (negated(d, i, j)) v = -v;
      out[size_t(tr ? j * 16 + i : i * 16 + j)] = v;
    }
  }
  return out;
}

Hash256 threshold(const Dct16& c) {
  Dct16 sorted = c;
  std::nth_element(sorted.begin(), sorted.begin() + 127, sorted.end());
  const float median = sorted[127];
  Hash256 h;
  for (int k = 0; k < 256; k++)
    if (c[size_t(k)] > median) h.set_bit(k);
  return h;
}

Hash256 transform_hash(const Hash256& h, Dihedral d) {
  Hash256 out;
  const bool tr = transposed(d);
  for (int i = 0; i < 16; i++) {
    for (int j = 0; j < 16; j++) {
      bool b = h.bit(i * 16 + j) != negated(d, i, j);
      if (b) out.set_bit(tr ? j * 16 + i : i * 16 + j);
    }
  }
  return out;
}

Dihedral dihedral_for_orientation(int orientation) {
  switch (orientation) {
    case 2:
      return Dihedral::flip_y;  // mirrored left-right
    case 3:
      return Dihedral::rot180;
    case 4:
      return Dihedral::flip_x;  // mirrored top-bottom
    case 5:
      return Dihedral::flip_plus1;  // transposed
    case 6:
      return Dihedral::rot270;  // shown turned 90 degrees clockwise
    case 7:
      return Dihedral::flip_minus1;  // transversed
    case 8:
      return Dihedral::rot90;  // shown turned 90 degrees counter-clockwise
    default:
      return Dihedral::original;
  }
}

Result Hasher::hash_luma(float* luma, int width, int height, bool dihedral, Dihedral view) {
  Result r;
  if (width < kMinHashableSide || height < kMinHashableSide) return r;
  float buf[64 * 64];
  if (width == 64 && height == 64) {
    std::copy(luma, luma + 64 * 64, buf);  // the reference skips the blur for 64x64 input
  } else {
    downsample64(luma, width, height, buf);
  }
  r.quality = quality_64(buf);
  Dct16 c;
  dct64_to_16(buf, c);
  if (view != Dihedral::original) c = transform_dct(c, view);
  r.hash = threshold(c);
  if (dihedral) {
    r.dihedral[0] = r.hash;
    for (int k = 1; k < kNumDihedral; k++) r.dihedral[size_t(k)] = threshold(transform_dct(c, Dihedral(k)));
  }
  return r;
}

}  // namespace dr::pdq
