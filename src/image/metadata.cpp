#include "image/metadata.h"

#include <cctype>
#include <cstdio>
#include <mutex>

#include "image/decode.h"

// exiv2 0.27's headers use std::auto_ptr, deprecated in C++20.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>
#include <exiv2/matroskavideo.hpp>
#include <exiv2/quicktimevideo.hpp>
#include <exiv2/riffvideo.hpp>

namespace dr::image {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '\0')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string format_of(const std::string& mime) {
  if (mime == "image/jpeg") return "jpeg";
  if (mime == "image/png") return "png";
  if (mime == "image/webp") return "webp";
  if (mime == "image/tiff") return "tiff";
  if (mime == "image/heif" || mime == "image/heic" || mime == "image/avif") return "heif";
  if (mime == "image/gif") return "gif";
  if (mime == "image/bmp" || mime == "image/x-ms-bmp") return "bmp";
  auto slash = mime.find('/');
  return slash == std::string::npos ? mime : mime.substr(slash + 1);
}

std::optional<double> rational_coord(const Exiv2::ExifData& exif, const char* key, const char* ref_key) {
  auto it = exif.findKey(Exiv2::ExifKey(key));
  if (it == exif.end() || it->count() < 3) return std::nullopt;
  double v = 0, scale = 1;
  for (long i = 0; i < 3; ++i) {
    auto r = it->toRational(i);
    if (r.second == 0) return std::nullopt;
    v += double(r.first) / r.second / scale;
    scale *= 60;
  }
  auto ref = exif.findKey(Exiv2::ExifKey(ref_key));
  if (ref != exif.end()) {
    auto s = ref->toString();
    if (!s.empty() && (s[0] == 'S' || s[0] == 'W')) v = -v;
  }
  return v;
}

std::once_flag quiet_once;

// exiv2 0.27 hands some files to its video readers (QuickTime, RIFF, Matroska, ASF; deprecated since 0.27.1), which
// spin for minutes on small crafted files (Exiv2/exiv2#2393, #2423; fuzz/image_fuzz.cpp found one of 561 bytes).
// HEIF and AVIF photos are among them (exiv2's BMFF reader is off by default and would report a tile's size for a
// grid image); their facts come from libvips' header read instead, as the decode reads them. Other such files are
// not photos.
bool video_reader(int type) {
  constexpr int asf = 24;  // Exiv2::ImageType::asf, from asfvideo.hpp, which does not compile on its own
  return type == Exiv2::ImageType::qtime || type == Exiv2::ImageType::riff || type == Exiv2::ImageType::mkv ||
         type == asf;
}

// A HEIF or AVIF photo's format, size and orientation from libvips' header read (no EXIF date, camera or GPS).
Metadata heif_metadata(const std::string& path) {
  Metadata m;
  try {
    Limits none;
    none.max_pixels = 0;
    const Info info = read_info(path, none);
    if (info.format != "heif") {
      m.error = "a video or another container, not a photo in a format darkroom reads";
      return m;
    }
    m.format = info.format;
    m.width = info.display_width;
    m.height = info.display_height;
    m.orientation = info.orientation;
  } catch (const Error&) {
    m.error = "a video or another container, not a photo in a format darkroom reads";
  }
  return m;
}

}  // namespace

std::optional<std::string> exif_datetime_to_iso(const std::string& raw) {
  std::string s = trim(raw);
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (std::sscanf(s.c_str(), "%4d:%2d:%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) < 3 &&
      std::sscanf(s.c_str(), "%4d-%2d-%2d%*c%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) < 3)
    return std::nullopt;
  if (y < 1800 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60)
    return std::nullopt;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, se);
  return std::string(buf);
}

Metadata read_metadata(const std::string& path) {
  std::call_once(quiet_once, [] { Exiv2::LogMsg::setLevel(Exiv2::LogMsg::mute); });
  Metadata m;
  try {
    check_png_chunks(path);  // exiv2 would read a PNG's huge text chunk whole
    auto img = Exiv2::ImageFactory::open(path);
    if (!img.get()) {
      m.error = "not a recognised image format";
      return m;
    }
    if (video_reader(img->imageType())) {
      img.reset();
      return heif_metadata(path);
    }
    img->readMetadata();
    m.format = format_of(img->mimeType());
    m.width = img->pixelWidth();
    m.height = img->pixelHeight();
    const auto& exif = img->exifData();
    auto get = [&](const char* key) -> std::string {
      auto it = exif.findKey(Exiv2::ExifKey(key));
      return it == exif.end() ? std::string() : trim(it->toString());
    };
    if (auto it = exif.findKey(Exiv2::ExifKey("Exif.Image.Orientation")); it != exif.end()) {
      long o = it->toLong();
      if (o >= 1 && o <= 8) m.orientation = int(o);
    }
    if (m.orientation >= 5) std::swap(m.width, m.height);
    for (auto key : {"Exif.Photo.DateTimeOriginal", "Exif.Photo.DateTimeDigitized", "Exif.Image.DateTime"}) {
      if (auto t = exif_datetime_to_iso(get(key))) {
        m.taken_at = t;
        break;
      }
    }
    m.camera_make = get("Exif.Image.Make");
    m.camera_model = get("Exif.Image.Model");
    auto lat = rational_coord(exif, "Exif.GPSInfo.GPSLatitude", "Exif.GPSInfo.GPSLatitudeRef");
    auto lon = rational_coord(exif, "Exif.GPSInfo.GPSLongitude", "Exif.GPSInfo.GPSLongitudeRef");
    if (lat && lon) {
      Gps g{*lat, *lon, std::nullopt};
      if (auto it = exif.findKey(Exiv2::ExifKey("Exif.GPSInfo.GPSAltitude")); it != exif.end() && it->count()) {
        auto r = it->toRational(0);
        if (r.second) {
          double alt = double(r.first) / r.second;
          auto ref = exif.findKey(Exiv2::ExifKey("Exif.GPSInfo.GPSAltitudeRef"));
          if (ref != exif.end() && ref->toLong() == 1) alt = -alt;
          g.alt = alt;
        }
      }
      m.gps = g;
    }
  } catch (const std::exception& e) {
    m = Metadata{};
    m.error = trim(e.what());
  }
  return m;
}

}  // namespace dr::image
#pragma GCC diagnostic pop
