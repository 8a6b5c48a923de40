// What a photo's header says about it, read with exiv2 without decoding pixels: format, size as displayed, EXIF
// date taken, camera, GPS and orientation (HEIF and AVIF: format, size and orientation from libvips' header read;
// exiv2's video readers, which it would use for them, are never run). A file exiv2 cannot read gives a Metadata with an
// empty format and the reason, never an exception: `add` records the file anyway and its jobs fail with that reason.
#pragma once
#include <optional>
#include <string>

namespace dr::image {

struct Gps {
  double lat = 0, lon = 0;
  std::optional<double> alt;
};

struct Metadata {
  std::string format;                   // "jpeg", "png", "webp", "heif", "tiff", ... (empty: not an image)
  std::string error;                    // why format is empty
  int width = 0, height = 0;            // as displayed (orientation 5..8 swaps them); 0 when the header lacks them
  int orientation = 1;                  // EXIF 1..8
  std::optional<std::string> taken_at;  // "YYYY-MM-DDTHH:MM:SS" (DateTimeOriginal, else DateTimeDigitized, DateTime)
  std::string camera_make, camera_model;
  std::optional<Gps> gps;
};

Metadata read_metadata(const std::string& path);

// "2019:07:04 12:30:00" (EXIF) -> "2019-07-04T12:30:00"; nullopt for blanks and zeros ("0000:00:00 00:00:00").
std::optional<std::string> exif_datetime_to_iso(const std::string& exif);

}  // namespace dr::image
