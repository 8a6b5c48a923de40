#include "image/jpeg_fast.h"

#include <sys/stat.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

// jpeglib.h needs FILE (from <cstdio>) declared before it.
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

namespace dr::image {

namespace {

struct TjHandle {
  tjhandle h = nullptr;
  ~TjHandle() { reset(); }
  void reset() {
    if (h) tjDestroy(h);
    h = nullptr;
  }
};

// One decompressor per thread: creating one costs more than decoding a small JPEG's header.
thread_local TjHandle t_handle;

tjhandle decompressor() {
  if (!t_handle.h) t_handle.h = tjInitDecompress();
  if (!t_handle.h) throw Error("cannot start the JPEG decoder (out of memory?)", false);
  return t_handle.h;
}

// After a failed call the handle can keep the broken stream's state (TurboJPEG 2.1 then reports bogus errors on
// the next, valid file), so it is thrown away.
void discard_decompressor() { t_handle.reset(); }

[[noreturn]] void fail(const std::string& name, const std::string& why) { throw Error(name + ": " + why); }

std::string tj_message(tjhandle h) {
  const char* m = tjGetErrorStr2(h);
  return m ? m : "unknown JPEG error";
}

// TurboJPEG reports recoverable problems as warnings. A premature end of data means a truncated file whose missing
// part libjpeg paints grey: hashing that would give a wrong hash, so it is an error. Other warnings (extraneous
// bytes, odd markers, a bad Huffman code in one block) are common in real photos and leave a usable image.
void decompress(tjhandle h, const uint8_t* data, size_t size, uint8_t* out, int w, int pitch, int ht, int pf, int flags,
                const std::string& name) {
  if (tjDecompress2(h, data, static_cast<unsigned long>(size), out, w, pitch, ht, pf, flags) == 0) return;
  const std::string msg = tj_message(h);
  const bool warning = tjGetErrorCode(h) == TJERR_WARNING;
  discard_decompressor();
  if (warning && msg.find("Premature end") == std::string::npos) return;
  if (msg.find("Premature end") != std::string::npos) fail(name, "truncated JPEG (" + msg + ")");
  fail(name, "cannot decode JPEG (" + msg + ")");
}

uint16_t rd16(const uint8_t* p, bool le) { return le ? uint16_t(p[0] | p[1] << 8) : uint16_t(p[0] << 8 | p[1]); }
uint32_t rd32(const uint8_t* p, bool le) {
  return le ? uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24
            : uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

// Orientation tag 0x0112 in IFD0 of a TIFF structure (the APP1 payload after "Exif\0\0").
int tiff_orientation(const uint8_t* t, size_t n) {
  if (n < 8) return 1;
  bool le;
  if (t[0] == 'I' && t[1] == 'I')
    le = true;
  else if (t[0] == 'M' && t[1] == 'M')
    le = false;
  else
    return 1;
  if (rd16(t + 2, le) != 42) return 1;
  const uint32_t ifd = rd32(t + 4, le);
  if (ifd > n - 2) return 1;
  const uint32_t count = rd16(t + ifd, le);
  for (uint32_t i = 0; i < count; i++) {
    const size_t e = size_t(ifd) + 2 + size_t(i) * 12;
    if (e + 12 > n) return 1;
    if (rd16(t + e, le) != 0x0112) continue;
    const uint16_t type = rd16(t + e + 2, le);
    if (type != 3 || rd32(t + e + 4, le) < 1) return 1;  // SHORT, at least one value
    const int v = rd16(t + e + 8, le);
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}

// CMYK JPEGs as written by Photoshop and Pillow store inverted values (Adobe): the decoder's C', M', Y', K' are
// 255 - C, ... and RGB = C' K' / 255. Uncalibrated, like the reference's own decoder, which keeps the first three
// channels; the two agree where K is absent.
void cmyk_to_rgb(const uint8_t* p, uint8_t* rgb) {
  const unsigned k = p[3];
  for (int c = 0; c < 3; c++) rgb[c] = uint8_t((p[c] * k + 127) / 255);
}

bool is_sof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

}  // namespace

namespace {

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

File open_file(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error("cannot open " + path + ": " + std::strerror(errno));
  return f;
}

}  // namespace

std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes) {
  File f = open_file(path);
  struct stat st {};
  if (fstat(fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) > max_bytes)
    throw Error(path + ": file is " + std::to_string(st.st_size) + " bytes, above the limit of " +
                std::to_string(max_bytes) + " bytes");
  std::vector<uint8_t> buf;
  if (S_ISREG(st.st_mode) && st.st_size > 0) buf.reserve(size_t(st.st_size));
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f.get())) > 0) {
    if (buf.size() + n > max_bytes) throw Error(path + ": more than " + std::to_string(max_bytes) + " bytes");
    buf.insert(buf.end(), chunk, chunk + n);
  }
  if (std::ferror(f.get())) throw Error("cannot read " + path + ": " + std::strerror(errno), false);
  if (buf.empty()) throw Error(path + ": empty file");
  return buf;
}

bool file_looks_like_jpeg(const std::string& path) {
  File f = open_file(path);
  uint8_t head[4];
  const size_t n = std::fread(head, 1, sizeof head, f.get());
  if (std::ferror(f.get())) throw Error("cannot read " + path + ": " + std::strerror(errno), false);
  if (n == 0) throw Error(path + ": empty file");
  return looks_like_jpeg(head, n);
}

bool looks_like_jpeg(const uint8_t* data, size_t size) {
  return size >= 4 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

int jpeg_exif_orientation(const uint8_t* d, size_t n) {
  if (!looks_like_jpeg(d, n)) return 1;
  size_t p = 2;
  while (p + 4 <= n) {
    if (d[p] != 0xFF) return 1;
    const uint8_t m = d[p + 1];
    if (m == 0xFF) {  // fill byte
      p++;
      continue;
    }
    if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {  // markers without a length
      p += 2;
      continue;
    }
    if (m == 0xDA || m == 0xD9 || is_sof(m)) return 1;  // image data or its header: EXIF comes before
    const size_t len = rd16(d + p + 2, false);
    if (len < 2 || p + 2 + len > n) return 1;
    const uint8_t* seg = d + p + 4;
    const size_t seg_len = len - 2;
    if (m == 0xE1 && seg_len >= 6 && std::memcmp(seg, "Exif\0\0", 6) == 0)
      return tiff_orientation(seg + 6, seg_len - 6);
    p += 2 + len;
  }
  return 1;
}

JpegHeader jpeg_header(const uint8_t* data, size_t size, const std::string& name, const Limits& limits) {
  if (!looks_like_jpeg(data, size)) fail(name, "not a JPEG file");
  tjhandle h = decompressor();
  int w = 0, ht = 0, subsamp = 0, cs = 0;
  if (tjDecompressHeader3(h, data, static_cast<unsigned long>(size), &w, &ht, &subsamp, &cs) != 0) {
    const std::string msg = tj_message(h);
    discard_decompressor();
    fail(name, "cannot read the JPEG header (" + msg + ")");
  }
  if (w <= 0 || ht <= 0) fail(name, "JPEG header gives no size");
  if (limits.max_pixels && uint64_t(w) * uint64_t(ht) > limits.max_pixels)
    fail(name, "image is " + std::to_string(w) + "x" + std::to_string(ht) + " pixels, above the limit of " +
                   std::to_string(limits.max_pixels) + " pixels (refused before decoding)");
  JpegHeader hd;
  hd.width = w;
  hd.height = ht;
  hd.cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
  hd.grey = cs == TJCS_GRAY;
  hd.ycbcr = cs == TJCS_YCbCr;
  return hd;
}

Pixels decode_jpeg_full(const uint8_t* data, size_t size, const std::string& name, const Limits& limits) {
  const JpegHeader hd = jpeg_header(data, size, name, limits);
  Pixels px;
  px.width = hd.width;
  px.height = hd.height;
  px.channels = hd.grey ? 1 : 3;
  px.data.resize(size_t(px.width) * px.height * px.channels);
  if (hd.cmyk) {
    std::vector<uint8_t> cmyk(size_t(px.width) * px.height * 4);
    decompress(decompressor(), data, size, cmyk.data(), px.width, px.width * 4, px.height, TJPF_CMYK,
               TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS, name);
    for (size_t i = 0; i < size_t(px.width) * px.height; i++) cmyk_to_rgb(&cmyk[i * 4], &px.data[i * 3]);
    return px;
  }
  decompress(decompressor(), data, size, px.data.data(), px.width, px.width * px.channels, px.height,
             hd.grey ? TJPF_GRAY : TJPF_RGB, TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS, name);
  return px;
}

namespace {

// ---- decode_jpeg_sampled: libjpeg's raw (downsampled, unconverted) output, one iMCU row at a time ----

// One component's geometry and its rolling buffer: three consecutive iMCU rows (the one being sampled and its two
// neighbours, which the vertical interpolation reaches into), each rows_per_imcu rows of `stride` samples.
struct Component {
  int fx = 1, fy = 1;  // image pixels per sample, across and down
  int w = 0, h = 0;    // real samples (libjpeg's downsampled_width/height); edges repeat beyond them
  int stride = 0, rows_per_imcu = 0;
  std::vector<uint8_t> buf;       // 3 * rows_per_imcu * stride
  std::vector<JSAMPROW> rows[3];  // row pointers of each slot, for jpeg_read_raw_data
  const uint8_t* row(int r) const {
    const int k = r / rows_per_imcu;
    return buf.data() + size_t((k % 3) * rows_per_imcu + r % rows_per_imcu) * stride;
  }
};

// How libjpeg upsamples a component (jdsample.c's choice at full scale, fancy upsampling on, as by default): a
// factor of 2 across, down or both interpolates ("fancy"), other integer factors replicate.
enum class Upsample { none, h2v1, h1v2, h2v2, replicate };

Upsample upsample_kind(int fx, int fy) {
  if (fx == 1 && fy == 1) return Upsample::none;
  if (fx == 2 && fy == 1) return Upsample::h2v1;
  if (fx == 1 && fy == 2) return Upsample::h1v2;
  if (fx == 2 && fy == 2) return Upsample::h2v2;
  return Upsample::replicate;
}

// Per sampled column (or row) of the image and per component: the sample it falls in, the neighbour the
// interpolation weighs in (the previous one for an even pixel, the next for an odd one; edge samples repeated) and
// the rounding bias libjpeg adds there (ties round one way on even pixels, the other on odd ones).
struct Tap {
  int at = 0, near = 0, bias = 0;
};

std::vector<Tap> taps(const std::vector<int>& pos, int f, int n, bool fancy, int bias_even, int bias_odd) {
  std::vector<Tap> t(pos.size());
  for (size_t i = 0; i < pos.size(); i++) {
    const int p = pos[i], c = p / f;
    t[i].at = c;
    if (fancy) {
      t[i].near = (p & 1) ? std::min(c + 1, n - 1) : std::max(c - 1, 0);
      t[i].bias = (p & 1) ? bias_odd : bias_even;
    } else {
      t[i].near = c;
    }
  }
  return t;
}

// JFIF YCbCr -> RGB in libjpeg's 16-bit fixed point: each product rounded to nearest (the half added before the
// arithmetic shift), then clamped to 0..255.
constexpr int kColourBits = 16;
constexpr int32_t colour_fix(double v) { return int32_t(v * (1 << kColourBits) + 0.5); }
constexpr int32_t kColourHalf = int32_t(1) << (kColourBits - 1);
inline uint8_t clamp255(int v) { return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v); }
inline void ycc_to_rgb(int y, int cb, int cr, uint8_t* rgb) {
  cb -= 128;
  cr -= 128;
  rgb[0] = clamp255(y + ((colour_fix(1.40200) * cr + kColourHalf) >> kColourBits));
  rgb[1] = clamp255(y + ((-colour_fix(0.34414) * cb - colour_fix(0.71414) * cr + kColourHalf) >> kColourBits));
  rgb[2] = clamp255(y + ((colour_fix(1.77200) * cb + kColourHalf) >> kColourBits));
}

// libjpeg reports errors through a callback that must not return; it jumps back to the setjmp of the phase that
// called it. Only trivially destructible objects live in those phases.
struct JpegErr {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
  jpeg_progress_mgr progress;
};

[[noreturn]] void on_error(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegErr*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings (msg_level -1) leave a usable image except a premature end, which libjpeg pads with grey: as for the
// TurboJPEG paths, that is a truncated file. Trace messages are ignored; nothing is printed.
void on_message(j_common_ptr c, int level) {
  auto* e = reinterpret_cast<JpegErr*>(c->err);
  if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) e->truncated = true;
}

// TurboJPEG's TJFLAG_LIMITSCANS, which the other paths use: a progressive JPEG of more than 500 scans is refused
// (a few KB can otherwise cost minutes).
void on_progress(j_common_ptr c) {
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number > 500) {
    auto* e = reinterpret_cast<JpegErr*>(c->err);
    std::snprintf(e->message, sizeof e->message, "progressive JPEG image has more than 500 scans");
    std::longjmp(e->jump, 1);
  }
}

struct Decompressor {
  jpeg_decompress_struct cinfo{};
  JpegErr err{};
  Decompressor() {
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_error;
    err.mgr.emit_message = on_message;
    err.progress.progress_monitor = on_progress;
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &err.progress;
  }
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
};

// Phase 1: header and start, raw output. False (err.message set) on an error.
bool start_raw(Decompressor& d, const uint8_t* data, size_t size) {
  if (setjmp(d.err.jump)) return false;
  jpeg_mem_src(&d.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&d.cinfo, TRUE);
  d.cinfo.raw_data_out = TRUE;
  d.cinfo.dct_method = JDCT_ISLOW;  // the accurate integer IDCT, libjpeg's default and the reference's
  jpeg_start_decompress(&d.cinfo);
  return true;
}

// Phase 2: reads iMCU row k into slot k % 3 of every component.
bool read_imcu_row(Decompressor& d, Component* comps, int k) {
  if (setjmp(d.err.jump)) return false;
  JSAMPARRAY planes[MAX_COMPONENTS];
  for (int c = 0; c < d.cinfo.num_components; c++) planes[c] = comps[c].rows[k % 3].data();
  jpeg_read_raw_data(&d.cinfo, planes, JDIMENSION(d.cinfo.max_v_samp_factor * DCTSIZE));
  return true;
}

Pixels pick(const Pixels& full, const std::vector<int>& xs, const std::vector<int>& ys) {
  Pixels out;
  out.width = int(xs.size());
  out.height = int(ys.size());
  out.channels = full.channels;
  out.data.resize(size_t(out.width) * out.height * out.channels);
  uint8_t* o = out.data.data();
  for (int y : ys) {
    const uint8_t* row = full.data.data() + size_t(y) * full.width * full.channels;
    for (int x : xs)
      for (int c = 0; c < full.channels; c++) *o++ = row[size_t(x) * full.channels + c];
  }
  return out;
}

// One component's samples at the sampled pixels of image row y, upsampled as libjpeg upsamples them: 2:1 steps
// weigh the nearer sample 3/4 and the neighbour 1/4; with 2:1 both ways the vertical step is summed first and the
// result rounded once (/16).
void sample_row(const Component& c, Upsample kind, const Tap& ty, const std::vector<Tap>& tx, int* out) {
  const uint8_t* r = c.row(ty.at);
  const size_t n = tx.size();
  switch (kind) {
    case Upsample::none:
    case Upsample::replicate:
      for (size_t i = 0; i < n; i++) out[i] = r[tx[i].at];
      return;
    case Upsample::h2v1:
      for (size_t i = 0; i < n; i++) out[i] = (3 * r[tx[i].at] + r[tx[i].near] + tx[i].bias) >> 2;
      return;
    case Upsample::h1v2: {
      const uint8_t* q = c.row(ty.near);
      for (size_t i = 0; i < n; i++) out[i] = (3 * r[tx[i].at] + q[tx[i].at] + ty.bias) >> 2;
      return;
    }
    case Upsample::h2v2: {
      const uint8_t* q = c.row(ty.near);
      for (size_t i = 0; i < n; i++) {
        const int a = 3 * r[tx[i].at] + q[tx[i].at], b = 3 * r[tx[i].near] + q[tx[i].near];
        out[i] = (3 * a + b + tx[i].bias) >> 4;
      }
      return;
    }
  }
}

}  // namespace

Pixels decode_jpeg_sampled(const uint8_t* data, size_t size, const std::string& name, const std::vector<int>& xs,
                           const std::vector<int>& ys, const Limits& limits) {
  const JpegHeader hd = jpeg_header(data, size, name, limits);
  if (!hd.grey && !hd.ycbcr) return pick(decode_jpeg_full(data, size, name, limits), xs, ys);

  Decompressor d;
  if (!start_raw(d, data, size)) fail(name, std::string("cannot decode JPEG (") + d.err.message + ")");
  jpeg_decompress_struct& ci = d.cinfo;
  const int ncomp = ci.num_components;
  if ((ncomp != 1 && ncomp != 3) || int(ci.image_width) != hd.width || int(ci.image_height) != hd.height)
    return pick(decode_jpeg_full(data, size, name, limits), xs, ys);
  Component comps[3];
  Upsample kinds[3];
  for (int c = 0; c < ncomp; c++) {
    const jpeg_component_info& info = ci.comp_info[c];
    if (ci.max_h_samp_factor % info.h_samp_factor || ci.max_v_samp_factor % info.v_samp_factor)
      return pick(decode_jpeg_full(data, size, name, limits), xs, ys);  // fractional factors: libjpeg refuses too
    Component& k = comps[c];
    k.fx = ci.max_h_samp_factor / info.h_samp_factor;
    k.fy = ci.max_v_samp_factor / info.v_samp_factor;
    k.w = int(info.downsampled_width);
    k.h = int(info.downsampled_height);
    k.stride = int(info.width_in_blocks) * DCTSIZE;
    k.rows_per_imcu = info.v_samp_factor * DCTSIZE;
    k.buf.resize(size_t(3) * k.rows_per_imcu * k.stride);
    for (int slot = 0; slot < 3; slot++) {
      k.rows[slot].resize(size_t(k.rows_per_imcu));
      for (int r = 0; r < k.rows_per_imcu; r++)
        k.rows[slot][size_t(r)] = k.buf.data() + size_t(slot * k.rows_per_imcu + r) * k.stride;
    }
    kinds[c] = upsample_kind(k.fx, k.fy);
  }

  // Taps per component: across (bias 1/2 for 2:1 alone, 8/7 once summed with the vertical step) and down.
  std::vector<Tap> tx[3];
  std::vector<Tap> ty[3];
  for (int c = 0; c < ncomp; c++) {
    const Component& k = comps[c];
    const bool fancy_x = kinds[c] == Upsample::h2v1 || kinds[c] == Upsample::h2v2;
    const bool fancy_y = kinds[c] == Upsample::h1v2 || kinds[c] == Upsample::h2v2;
    tx[c] = kinds[c] == Upsample::h2v2 ? taps(xs, k.fx, k.w, true, 8, 7) : taps(xs, k.fx, k.w, fancy_x, 1, 2);
    ty[c] = taps(ys, k.fy, k.h, fancy_y, 1, 2);
  }

  // Output rows in the order of the image rows they sample, each done once the iMCU row after its own is in
  // (its vertical neighbours may lie there).
  const int imcu_height = ci.max_v_samp_factor * DCTSIZE;
  std::vector<size_t> order(ys.size());
  for (size_t j = 0; j < order.size(); j++) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ys[a] < ys[b]; });

  Pixels out;
  out.width = int(xs.size());
  out.height = int(ys.size());
  out.channels = ncomp == 1 ? 1 : 3;
  out.data.resize(size_t(out.width) * out.height * out.channels);
  std::vector<int> samples[3];
  for (auto& v : samples) v.resize(xs.size());
  size_t next = 0;
  auto emit_rows_of = [&](int k) {  // every output row whose image row lies in iMCU row k
    for (; next < order.size() && ys[order[next]] / imcu_height == k; next++) {
      const size_t j = order[next];
      uint8_t* o = out.data.data() + j * size_t(out.width) * out.channels;
      for (int c = 0; c < ncomp; c++) sample_row(comps[c], kinds[c], ty[c][j], tx[c], samples[c].data());
      if (ncomp == 1) {
        for (size_t i = 0; i < xs.size(); i++) o[i] = uint8_t(samples[0][i]);
      } else {
        for (size_t i = 0; i < xs.size(); i++, o += 3) ycc_to_rgb(samples[0][i], samples[1][i], samples[2][i], o);
      }
    }
  };
  const int total = int(ci.total_iMCU_rows);
  for (int k = 0; k < total; k++) {
    if (!read_imcu_row(d, comps, k)) fail(name, std::string("cannot decode JPEG (") + d.err.message + ")");
    if (d.err.truncated) fail(name, "truncated JPEG (Premature end of JPEG file)");
    if (k > 0) emit_rows_of(k - 1);
  }
  emit_rows_of(total - 1);
  if (next != order.size()) fail(name, "sampled rows outside the image");
  return out;
}

}  // namespace dr::image
