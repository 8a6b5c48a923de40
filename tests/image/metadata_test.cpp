#include "image/metadata.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vips/vips8>

#include "image/decode.h"
#include "support/cli.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>
#pragma GCC diagnostic pop

namespace dr::image {
namespace {

const char* kJpeg = "/usr/share/doc/opencv-doc/examples/data/fruits.jpg";  // 512x480, no EXIF

TEST(Metadata, ReadsSizeAndFormatWithoutExif) {
  auto m = read_metadata(kJpeg);
  EXPECT_EQ(m.format, "jpeg");
  EXPECT_EQ(m.width, 512);
  EXPECT_EQ(m.height, 480);
  EXPECT_EQ(m.orientation, 1);
  EXPECT_FALSE(m.taken_at);
  EXPECT_FALSE(m.gps);
  auto png = read_metadata("/usr/lib/python3/dist-packages/skimage/data/astronaut.png");
  EXPECT_EQ(png.format, "png");
  EXPECT_EQ(png.width, 512);
}

TEST(Metadata, ReadsExifDateCameraGpsAndOrientation) {
  test::TempDir dir;
  auto path = dir / "tagged.jpg";
  std::filesystem::copy_file(kJpeg, path);
  {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    auto img = Exiv2::ImageFactory::open(path);
#pragma GCC diagnostic pop
    img->readMetadata();
    Exiv2::ExifData exif;
    exif["Exif.Image.Make"] = "Canon";
    exif["Exif.Image.Model"] = "Canon EOS 5D";
    exif["Exif.Image.Orientation"] = uint16_t(6);  // rotated 90 degrees: displayed 480x512
    exif["Exif.Photo.DateTimeOriginal"] = "2019:07:04 12:30:05";
    exif["Exif.GPSInfo.GPSLatitudeRef"] = "S";
    exif["Exif.GPSInfo.GPSLatitude"] = "33/1 51/1 3600/100";
    exif["Exif.GPSInfo.GPSLongitudeRef"] = "E";
    exif["Exif.GPSInfo.GPSLongitude"] = "151/1 12/1 0/1";
    img->setExifData(exif);
    img->writeMetadata();
  }
  auto m = read_metadata(path);
  EXPECT_EQ(m.format, "jpeg");
  EXPECT_EQ(m.orientation, 6);
  EXPECT_EQ(m.width, 480);
  EXPECT_EQ(m.height, 512);
  ASSERT_TRUE(m.taken_at);
  EXPECT_EQ(*m.taken_at, "2019-07-04T12:30:05");
  EXPECT_EQ(m.camera_make, "Canon");
  EXPECT_EQ(m.camera_model, "Canon EOS 5D");
  ASSERT_TRUE(m.gps);
  EXPECT_NEAR(m.gps->lat, -(33 + 51 / 60.0 + 36 / 3600.0), 1e-6);
  EXPECT_NEAR(m.gps->lon, 151.2, 1e-6);
}

TEST(Metadata, NonImagesGiveAReasonNotAnException) {
  test::TempDir dir;
  test::write_file(dir / "notes.jpg", "this is text, not a photo\n");
  auto m = read_metadata(dir / "notes.jpg");
  EXPECT_TRUE(m.format.empty());
  EXPECT_FALSE(m.error.empty());
  test::write_file(dir / "empty.png", "");
  auto e = read_metadata(dir / "empty.png");
  EXPECT_TRUE(e.format.empty());
  EXPECT_TRUE(read_metadata(dir / "absent.jpg").format.empty());
}

// Found by fuzz/image_fuzz.cpp (fuzz/regressions/image_fuzz/exiv2-quicktime-loop.heic, 561 bytes): exiv2 0.27 took
// the file for a QuickTime video, as it takes every HEIF, and its QuickTime reader spun for minutes (Exiv2/exiv2
// #2393, #2423); the same bytes branded "qt  " (exiv2-quicktime-loop-qt.mov) too. exiv2's video readers are no
// longer run: such a file gets a reason at once (the test's time limit is the check), and a HEIF photo its facts
// from libvips.
TEST(Metadata, ExivVideoReadersAreNeverRun) {
  test::TempDir dir;
  for (const char* name : {"exiv2-quicktime-loop.heic", "exiv2-quicktime-loop-qt.mov"}) {
    test::write_file(dir / name, test::fuzz_regression("image_fuzz", name));
    auto m = read_metadata(dir / name);
    EXPECT_EQ(m.format, "") << name;
    EXPECT_EQ(m.error, "a video or another container, not a photo in a format darkroom reads") << name;
  }
  start_vips();
  auto photo = vips::VImage::black(40, 30, vips::VImage::option()->set("bands", 3)).cast(VIPS_FORMAT_UCHAR);
  try {
    photo.write_to_file((dir / "photo.heic").c_str());
  } catch (const vips::VError& e) {
    GTEST_SKIP() << "this libvips cannot write HEIF: " << e.what();
  }
  auto m = read_metadata(dir / "photo.heic");
  EXPECT_EQ(m.format, "heif") << m.error;  // exiv2 called it "quicktime", of size 0 x 0
  EXPECT_EQ(m.width, 40);
  EXPECT_EQ(m.height, 30);
  EXPECT_EQ(m.orientation, 1);
}

TEST(Metadata, ExifDatesAreCheckedAndNormalised) {
  EXPECT_EQ(exif_datetime_to_iso("2019:07:04 12:30:05").value_or(""), "2019-07-04T12:30:05");
  EXPECT_EQ(exif_datetime_to_iso("2019:07:04").value_or(""), "2019-07-04T00:00:00");
  EXPECT_FALSE(exif_datetime_to_iso("0000:00:00 00:00:00"));
  EXPECT_FALSE(exif_datetime_to_iso("    "));
  EXPECT_FALSE(exif_datetime_to_iso("2019:13:04 12:30:05"));
}

}  // namespace
}  // namespace dr::image
