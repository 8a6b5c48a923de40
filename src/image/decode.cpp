#include "image/decode.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gmodule.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>
#include <vips/vips8>

namespace dr::image {
namespace {

// libvips loads its optional format modules (HEIF, JPEG XL, PDF, OpenSlide, ImageMagick) when it starts: 17 ms and
// about a hundred shared libraries in every process that starts it, most of which read only JPEG and PNG (built
// into libvips itself). Here they are loaded the first time a file is not recognised without them: the first HEIC
// photo of a process pays for them. libvips looks for its modules under $VIPSHOME (and sets that variable itself,
// to the prefix it guessed, when it is not set), so VIPSHOME is set to kOnDemand, a folder without modules: by
// prepare_decoder() at program start, before any thread, or else here when libvips starts. A child process
// inherits the value and does the same. A user's own VIPSHOME is left alone, and so are the modules then.
//
// One consequence: OpenSlide's loader, which ranks above libvips' own TIFF loader, reads a TIFF-based slide only
// in a process where some earlier file had made the modules load. Photos are not slides.
constexpr const char* kOnDemand = "/nonexistent/darkroom-loads-vips-modules-on-demand";
std::string g_module_dir;  // the modules left to load on demand (set once, when libvips starts)

std::string modules_beside_libvips() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&vips_init), &info) || !info.dli_fname) return "";
  std::filesystem::path dir =
      std::filesystem::path(info.dli_fname).parent_path() /
      ("vips-modules-" + std::to_string(vips_version(0)) + "." + std::to_string(vips_version(1)));
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) ? dir.string() : "";
}

void init_vips() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* home = std::getenv("VIPSHOME");
    if (!home) {
      setenv("VIPSHOME", kOnDemand, 1);  // what libvips would do next, with another value
      home = kOnDemand;
    }
    if (std::strcmp(home, kOnDemand) == 0) g_module_dir = modules_beside_libvips();
    if (VIPS_INIT("darkroom") != 0) throw Error("libvips could not start: " + std::string(vips_error_buffer()), false);
    vips_concurrency_set(1);  // darkroom parallelises across photos, not inside one
    vips_cache_set_max(0);    // photos are decoded once; caching them only costs memory
    vips_leak_set(FALSE);
    // libvips' warnings ("error in tile ...") duplicate the error each decode reports; keep stderr for darkroom.
    g_log_set_handler(
        "VIPS", G_LOG_LEVEL_WARNING, [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
  });
}

// Loads the deferred format modules (once, whichever thread asks first); true when there are such modules, loaded
// now or before, so that the caller looks again. Threads that ask while another loads them wait for it.
bool load_vips_modules() {
  if (g_module_dir.empty()) return false;
  static std::once_flag once;
  std::call_once(once, [] {
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(g_module_dir, ec))
      if (e.path().extension() == ".so") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    // As libvips does it: a module registers its loaders when opened and stays; one that fails is skipped.
    for (const auto& f : files) g_module_open(f.c_str(), G_MODULE_BIND_LAZY);
  });
  return true;
}

// The loader libvips picks for a file or buffer, loading the deferred modules when none of the others knows it.
template <class Find>
const char* find_loader(Find find) {
  const char* loader = find();
  if (!loader && load_vips_modules()) {
    vips_error_clear();
    loader = find();
  }
  return loader;
}

}  // namespace

void prepare_decoder() {
  if (!std::getenv("VIPSHOME")) setenv("VIPSHOME", kOnDemand, 1);
}

void warm_up() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      init_vips();
      auto tiny = vips::VImage::black(2, 2, vips::VImage::option()->set("bands", 3)).cast(VIPS_FORMAT_UCHAR);
      for (const char* format : {".png", ".jpg"}) {
        void* buf = nullptr;
        size_t size = 0;
        tiny.write_to_buffer(format, &buf, &size);
        std::unique_ptr<void, decltype(&g_free)> owned(buf, &g_free);
        decode_buffer(buf, size, format);
      }
    } catch (const std::exception&) {
      vips_error_clear();  // the first real photo reports what is wrong
    }
  });
}

namespace {

// libvips reports errors as lines like "VipsJpeg: Premature end of JPEG file"; keep the first useful one.
std::string vips_reason(const std::string& raw) {
  std::string first;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('\n', start);
    std::string line = raw.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? raw.size() : end + 1;
    if (line.empty()) continue;
    if (first.empty()) first = line;
    if (line.find("is not a known file format") != std::string::npos) return "not an image in a known format";
  }
  return first.empty() ? "unknown libvips error" : first;
}

std::string format_of(const char* loader) {
  std::string l = loader ? loader : "";
  for (const char* suffix : {"load_source", "load_buffer", "load"})
    if (l.size() > std::strlen(suffix) && l.ends_with(suffix)) {
      l.resize(l.size() - std::strlen(suffix));
      break;
    }
  if (l.starts_with("VipsForeignLoad")) l = l.substr(15);
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* s : {"file", "buffer", "source"})
    if (l.size() > std::strlen(s) && l.ends_with(s)) l.resize(l.size() - std::strlen(s));
  return l;
}

int orientation_of(const vips::VImage& im) {
  if (vips_image_get_typeof(im.get_image(), VIPS_META_ORIENTATION) == 0) return 1;
  int o = im.get_int(VIPS_META_ORIENTATION);
  return (o >= 1 && o <= 8) ? o : 1;
}

Info info_of(const vips::VImage& im, const std::string& format) {
  Info info;
  info.format = format;
  info.stored_width = im.width();
  info.stored_height = im.height();
  info.orientation = orientation_of(im);
  bool swap = info.orientation >= 5;
  info.display_width = swap ? info.stored_height : info.stored_width;
  info.display_height = swap ? info.stored_width : info.stored_height;
  return info;
}

void check_limits(const Info& info, const std::string& name, const Limits& limits) {
  if (info.stored_width <= 0 || info.stored_height <= 0) throw Error(name + ": the image has no pixels");
  uint64_t px = uint64_t(info.stored_width) * uint64_t(info.stored_height);
  if (limits.max_pixels && px > limits.max_pixels)
    throw Error(name + ": the image is " + std::to_string(info.stored_width) + "x" +
                std::to_string(info.stored_height) + " (" + std::to_string(px / 1000000) +
                " megapixels), over the limit of " + std::to_string(limits.max_pixels / 1000000) +
                " megapixels; refused before decoding");
}

// The load options for a loader: stop on truncated files; JPEGs shrink on load by the largest power of two that
// keeps the longest side at or above the wanted size.
vips::VOption* load_options(const std::string& format, const Info& info, int max_side) {
  auto* o = vips::VImage::option()->set("fail_on", VIPS_FAIL_ON_TRUNCATED);
  if (format == "jpeg" && max_side > 0) {
    int longest = std::max(info.stored_width, info.stored_height);
    int shrink = 1;
    while (shrink < 8 && longest / (shrink * 2) >= max_side) shrink *= 2;
    if (shrink > 1) o->set("shrink", shrink);
  }
  return o;
}

Decoded finish(vips::VImage im, Info info, const DecodeOptions& opts) {
  if (opts.autorotate && info.orientation != 1) {
    im = im.autorot();
  } else if (!opts.autorotate) {
    info.display_width = info.stored_width;
    info.display_height = info.stored_height;
  }
  // To 8-bit sRGB (CMYK, LAB, ... through libvips' colour management), alpha flattened on white, three bands.
  bool has_alpha = im.has_alpha();
  if (im.interpretation() != VIPS_INTERPRETATION_sRGB && im.interpretation() != VIPS_INTERPRETATION_B_W &&
      im.interpretation() != VIPS_INTERPRETATION_GREY16 && im.interpretation() != VIPS_INTERPRETATION_RGB16) {
    im = im.colourspace(VIPS_INTERPRETATION_sRGB);
  }
  if (has_alpha) {
    double white = (im.format() == VIPS_FORMAT_USHORT) ? 65535 : 255;
    im = im.flatten(vips::VImage::option()->set("background", std::vector<double>{white, white, white}));
  }
  if (im.format() == VIPS_FORMAT_USHORT) {
    im = (im / 257.0);
  } else if (im.format() == VIPS_FORMAT_FLOAT || im.format() == VIPS_FORMAT_DOUBLE) {
    // Float images (e.g. WebP HSV/LAB modes come back as sRGB uchar; HDR floats as 0..1 scRGB).
    auto range = im.max();
    if (range <= 1.0) im = im * 255.0;
  }
  if (im.bands() <= 2) {
    auto grey = im.extract_band(0);
    im = vips::VImage::bandjoin({grey, grey, grey});
  }
  if (im.bands() > 3) im = im.extract_band(0, vips::VImage::option()->set("n", 3));
  im = im.cast(VIPS_FORMAT_UCHAR);

  int longest = std::max(im.width(), im.height());
  if (opts.max_side > 0 && longest > opts.max_side) {
    double scale = double(opts.max_side) / longest;
    // vips resize: box shrink (area averaging) by the integer part, then a small reduce.
    im = im.resize(scale, vips::VImage::option()->set("kernel", VIPS_KERNEL_LINEAR));
  }
  Decoded d;
  d.info = info;
  d.rgb.width = im.width();
  d.rgb.height = im.height();
  size_t size = 0;
  void* mem = im.write_to_memory(&size);
  if (!mem) throw Error("libvips produced no pixels", false);
  d.rgb.pixels.assign(static_cast<uint8_t*>(mem), static_cast<uint8_t*>(mem) + size);
  g_free(mem);
  if (d.rgb.pixels.size() != size_t(d.rgb.width) * d.rgb.height * 3)
    throw Error("libvips produced an unexpected pixel layout", false);
  return d;
}

}  // namespace

void start_vips() { init_vips(); }

namespace {

// Walks a PNG's chunks from their headers (length and type), skipping their data.
void walk_png(const uint8_t* p, size_t n, const std::string& name) {
  if (n < 8 || std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0) return;
  uint64_t off = 8, metadata = 0;
  while (off <= n && n - off >= 8) {
    const uint8_t* h = p + off;
    const uint64_t length = uint64_t(h[0]) << 24 | uint64_t(h[1]) << 16 | uint64_t(h[2]) << 8 | h[3];
    const std::string type(reinterpret_cast<const char*>(h + 4), 4);
    if (type == "IEND" || length > 0x7fffffffu) return;  // a length out of range is the decoder's to refuse
    if (type != "IDAT" && type != "fdAT") {
      auto mib = [](uint64_t n) { return std::to_string(std::max<uint64_t>(1, (n + (1u << 19)) >> 20)) + " MiB"; };
      std::string what = std::all_of(type.begin(), type.end(), [](char c) { return std::isalpha(uint8_t(c)); })
                             ? type
                             : std::string("unnamed");
      if (length > kPngChunkMax)
        throw Error(name + ": the PNG has a " + what + " chunk of " + mib(length) + "; darkroom reads at most " +
                    mib(kPngChunkMax) + " of metadata in a chunk");
      metadata += length;
      if (metadata > kPngMetadataMax)
        throw Error(name + ": the PNG has more than " + mib(kPngMetadataMax) +
                    " of metadata (text, ICC profile, other chunks); darkroom reads no more");
    }
    off += 12 + length;
  }
}

// Counts a JPEG's scans from its markers (the entropy-coded data between them is skipped, not decoded) and
// refuses more than kJpegMaxScans. Anything it does not understand is left to the decoder.
void walk_jpeg(const uint8_t* p, size_t n, const std::string& name) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return;
  size_t i = 2;
  int scans = 0;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return;
    const uint8_t m = p[i + 1];
    if (m == 0xFF) {  // fill
      ++i;
      continue;
    }
    if (m == 0xD9) return;  // the end
    if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {
      i += 2;
      continue;
    }
    const size_t length = size_t(p[i + 2]) << 8 | p[i + 3];
    if (length < 2) return;
    i += 2 + length;
    if (m != 0xDA) continue;
    if (++scans > kJpegMaxScans)
      throw Error(name + ": the progressive JPEG has more than " + std::to_string(kJpegMaxScans) +
                  " scans (a few KB of them can cost minutes to decode)");
    // The scan's data: up to the next marker (0xFF not followed by a stuffed 0, a restart marker or fill).
    while (i + 1 < n) {
      const auto* f = static_cast<const uint8_t*>(std::memchr(p + i, 0xFF, n - i - 1));
      if (!f) return;
      i = size_t(f - p);
      const uint8_t x = p[i + 1];
      if (x == 0x00 || (x >= 0xD0 && x <= 0xD7)) {
        i += 2;
      } else if (x == 0xFF) {
        ++i;
      } else {
        break;
      }
    }
  }
}

}  // namespace

namespace {

// Runs walk over the file's bytes, mapped (only the pages it touches are read). A file that cannot be opened or
// mapped is left to the decoder, which says why.
void walk_file(const std::string& path, void (*walk)(const uint8_t*, size_t, const std::string&)) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  void* m = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) m = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return;
  struct Unmap {
    void* m;
    size_t n;
    ~Unmap() { ::munmap(m, n); }
  } unmap{m, size_t(st.st_size)};
  walk(static_cast<const uint8_t*>(m), size_t(st.st_size), path);
}

}  // namespace

void check_jpeg_scans(const std::string& path) { walk_file(path, walk_jpeg); }
void check_jpeg_scans(const void* data, size_t size, const std::string& name) {
  walk_jpeg(static_cast<const uint8_t*>(data), size, name);
}
void check_png_chunks(const std::string& path) { walk_file(path, walk_png); }
void check_png_chunks(const void* data, size_t size, const std::string& name) {
  walk_png(static_cast<const uint8_t*>(data), size, name);
}

Info read_info(const std::string& path, const Limits& limits) {
  init_vips();
  struct stat st;
  if (stat(path.c_str(), &st) != 0) throw Error(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  if (st.st_size == 0) throw Error(path + ": the file is empty");
  const char* loader = find_loader([&] { return vips_foreign_find_load(path.c_str()); });
  if (!loader) {
    vips_error_clear();
    throw Error(path + ": not an image in a format darkroom reads (JPEG, PNG, WebP, HEIC/HEIF, TIFF, GIF)");
  }
  const std::string format = format_of(loader);
  if (format == "png") check_png_chunks(path);
  if (format == "jpeg") check_jpeg_scans(path);
  try {
    auto im = vips::VImage::new_from_file(path.c_str(), vips::VImage::option()->set("fail_on", VIPS_FAIL_ON_TRUNCATED));
    Info info = info_of(im, format);
    check_limits(info, path, limits);
    return info;
  } catch (const vips::VError& e) {
    vips_error_clear();
    throw Error(path + ": " + vips_reason(e.what()));
  }
}

Decoded decode(const std::string& path, const DecodeOptions& opts) {
  Info info = read_info(path, opts.limits);
  try {
    auto im = vips::VImage::new_from_file(path.c_str(), load_options(info.format, info, opts.max_side));
    return finish(im, info, opts);
  } catch (const vips::VError& e) {
    vips_error_clear();
    throw Error(path + ": " + vips_reason(e.what()));
  }
}

Decoded decode_buffer(const void* data, size_t size, const std::string& name, const DecodeOptions& opts) {
  init_vips();
  if (size == 0) throw Error(name + ": the file is empty");
  const char* loader = find_loader([&] { return vips_foreign_find_load_buffer(data, size); });
  if (!loader) {
    vips_error_clear();
    throw Error(name + ": not an image in a format darkroom reads (JPEG, PNG, WebP, HEIC/HEIF, TIFF, GIF)");
  }
  const std::string format = format_of(loader);
  if (format == "png") check_png_chunks(data, size, name);
  if (format == "jpeg") check_jpeg_scans(data, size, name);
  try {
    auto header = vips::VImage::new_from_buffer(data, size, "");
    Info info = info_of(header, format);
    check_limits(info, name, opts.limits);
    auto im = vips::VImage::new_from_buffer(data, size, "", load_options(info.format, info, opts.max_side));
    return finish(im, info, opts);
  } catch (const vips::VError& e) {
    vips_error_clear();
    throw Error(name + ": " + vips_reason(e.what()));
  }
}

}  // namespace dr::image
