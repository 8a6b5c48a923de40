#include "image/jpeg_fast.h"

#include <turbojpeg.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

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

std::vector<uint8_t> read_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error("cannot open " + path + ": " + std::strerror(errno));
  std::vector<uint8_t> buf;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f.get())) > 0) buf.insert(buf.end(), chunk, chunk + n);
  if (std::ferror(f.get())) throw Error("cannot read " + path + ": " + std::strerror(errno), false);
  if (buf.empty()) throw Error(path + ": empty file");
  return buf;
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
  return hd;
}

Grey decode_jpeg_luma(const uint8_t* data, size_t size, const std::string& name, int min_side, const Limits& limits) {
  const JpegHeader hd = jpeg_header(data, size, name, limits);
  // Scaling factors from the smallest up; the first that keeps both sides >= min_side wins.
  static const tjscalingfactor kScales[] = {{1, 8}, {1, 4}, {1, 2}, {1, 1}};
  tjscalingfactor sf = {1, 1};
  for (const auto& s : kScales) {
    if (TJSCALED(hd.width, s) >= min_side && TJSCALED(hd.height, s) >= min_side) {
      sf = s;
      break;
    }
  }
  Grey g;
  g.width = TJSCALED(hd.width, sf);
  g.height = TJSCALED(hd.height, sf);
  g.pixels.resize(size_t(g.width) * g.height);
  if (hd.cmyk) {
    std::vector<uint8_t> cmyk(g.pixels.size() * 4);
    decompress(decompressor(), data, size, cmyk.data(), g.width, g.width * 4, g.height, TJPF_CMYK,
               TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS, name);
    uint8_t rgb[3];
    for (size_t i = 0; i < g.pixels.size(); i++) {
      cmyk_to_rgb(&cmyk[i * 4], rgb);
      g.pixels[i] = uint8_t(0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2] + 0.5f);
    }
    return g;
  }
  decompress(decompressor(), data, size, g.pixels.data(), g.width, g.width, g.height, TJPF_GRAY,
             TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS, name);
  return g;
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

}  // namespace dr::image
