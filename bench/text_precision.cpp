// Float against int8 (`--int8`) on text neither was tuned on: reads the same pages with the text task twice, once
// with the float recognizer and once with the int8 one, and prints the character errors of each.
//
// The pages: `--hershey N` pages drawn here with OpenCV's Hershey fonts (six faces, scales 0.45 to 1.6, thickness 1
// and 2, five colours, plain backgrounds and python3-skimage's photos, some turned by up to 3 degrees; seeded, so
// every run draws the same pages), and every PNG in the folders given whose truth is beside it in a .txt file of the
// same name (bench/text_precision_images.py makes such pages with fonts that neither the calibration nor
// bench/text_peers.py uses). The int8 ranges were calibrated on DejaVu print (bench/text_calibration_images.py).
//
// Usage: text_precision --models DIR [--hershey 60] [--threads 2] [--only SET] [--text-settings JSON] [--verbose]
//        [folder...] (BENCHMARKS.md)
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../tests/support/text_images.h"
#include "analyzers/text/text_task.h"
#include "image/decode.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"

using namespace dr;

namespace {

struct Page {
  std::string name, set, truth;
  image::Decoded img;
};

const char* const kWords[] = {
    "station", "library", "window",  "garden", "Tuesday", "coffee",   "market",  "number", "ticket",   "platform",
    "open",    "closed",  "daily",   "from",   "until",   "north",    "south",   "river",  "bridge",   "school",
    "the",     "and",     "of",      "to",     "at",      "for",      "with",    "price",  "total",    "street",
    "avenue",  "museum",  "theatre", "hotel",  "bakery",  "pharmacy", "parking", "exit",   "entrance", "floor",
    "2025",    "14:30",   "No. 5",   "12.90",  "B7",      "Room 204", "A-12",    "June",   "October",  "Saturday"};

std::string words(std::mt19937& rnd, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + std::string(kWords[rnd() % std::size(kWords)]);
  return s;
}

// A seeded page of Hershey print: 3 to 7 lines, each its own face, size and colour.
Page hershey_page(int i, const std::vector<cv::Mat>& photos) {
  std::mt19937 rnd(1000 + i);
  const int faces[] = {cv::FONT_HERSHEY_SIMPLEX, cv::FONT_HERSHEY_PLAIN,   cv::FONT_HERSHEY_DUPLEX,
                       cv::FONT_HERSHEY_COMPLEX, cv::FONT_HERSHEY_TRIPLEX, cv::FONT_HERSHEY_COMPLEX_SMALL};
  const double scales[] = {0.45, 0.55, 0.7, 0.9, 1.2, 1.6};
  const cv::Scalar light{245, 242, 235}, dark{30, 30, 36};
  bool on_dark = rnd() % 5 == 0;
  const cv::Scalar inks_light[] = {{20, 20, 20}, {170, 30, 30}, {30, 60, 150}, {40, 100, 40}, {90, 90, 90}};
  const cv::Scalar inks_dark[] = {{240, 240, 240}, {250, 220, 90}, {200, 230, 255}};
  cv::Mat canvas;
  bool photo = !photos.empty() && rnd() % 3 == 0;
  if (photo) {
    // Text on a washed-out photo (as on a poster), so that the print stays readable to a person.
    cv::resize(photos[rnd() % photos.size()], canvas, {1000, 600});
    canvas = canvas * 0.45 + cv::Scalar(140, 140, 140);
    on_dark = false;
  } else {
    canvas = cv::Mat(600, 1000, CV_8UC3, on_dark ? dark : light);
  }
  // One page in four is a page of small print (the kind whose spaces get lost), of one face throughout.
  const bool small = rnd() % 4 == 0;
  const int page_face = faces[rnd() % std::size(faces)];
  const double small_scales[] = {0.45, 0.5, 0.55, 0.6};
  std::vector<test::TextLineSpec> lines;
  int n = small ? 6 + int(rnd() % 6) : 3 + int(rnd() % 5);
  for (int l = 0; l < n; ++l) {
    test::TextLineSpec s;
    s.font = small ? page_face : faces[rnd() % std::size(faces)];
    s.scale = small ? small_scales[rnd() % std::size(small_scales)] : scales[rnd() % std::size(scales)];
    s.thickness = s.scale < 0.8 || rnd() % 2 ? 1 : 2;
    s.ink = on_dark ? inks_dark[rnd() % std::size(inks_dark)] : inks_light[rnd() % std::size(inks_light)];
    // As many words as fit the page's width.
    for (int w = small ? 6 + int(rnd() % 8) : 2 + int(rnd() % 8); w >= 1; --w) {
      s.text = words(rnd, w);
      int base = 0;
      if (cv::getTextSize(s.text, s.font, s.scale, s.thickness, &base).width < 920) break;
    }
    lines.push_back(s);
  }
  // As many lines as fit the page's height (draw_lines leaves a line's height between lines).
  auto height = [&] {
    int h = 20;
    for (auto& l : lines) {
      int base = 0;
      h += 2 * cv::getTextSize(l.text, l.font, l.scale, l.thickness, &base).height + base;
    }
    return h;
  };
  while (lines.size() > 1 && height() > 580) lines.pop_back();
  auto img = test::draw_lines(canvas, lines, 30 + int(rnd() % 20), 20);
  cv::Mat out = img.rgb;
  double turn = rnd() % 3 == 0 ? (double(rnd() % 61) - 30) / 10 : 0;
  if (turn != 0) out = test::rotated(out, turn, on_dark ? dark : light);
  Page p;
  p.name = "hershey" + std::to_string(i);
  p.set = small ? "hershey, small print" : "hershey";
  p.truth = img.truth;
  p.img = test::decoded(out);
  return p;
}

std::vector<Page> folder_pages(const std::string& dir) {
  std::vector<Page> out;
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".png") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    auto txt = f;
    txt.replace_extension(".txt");
    std::ifstream in(txt);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    Page p;
    p.name = f.stem().string();
    p.set = std::filesystem::path(dir).filename().string();
    p.truth = ss.str();
    p.img = image::decode(f.string());
    out.push_back(std::move(p));
  }
  return out;
}

struct Tally {
  size_t chars = 0, float_edits = 0, int8_edits = 0, pages = 0, float_better = 0, int8_better = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string models = ".models";
  int hershey = 60, threads = 2;
  bool verbose = false;
  std::string only;                                    // pages of the sets whose name contains this
  nlohmann::json settings = nlohmann::json::object();  // the text task's, as in a library's settings.json
  std::vector<std::string> folders;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--models") == 0 && i + 1 < argc)
      models = argv[++i];
    else if (std::strcmp(argv[i], "--hershey") == 0 && i + 1 < argc)
      hershey = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--text-settings") == 0 && i + 1 < argc)
      settings = nlohmann::json{{"text", nlohmann::json::parse(argv[++i])}};
    else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc)
      only = argv[++i];
    else if (std::strcmp(argv[i], "--verbose") == 0)
      verbose = true;
    else
      folders.emplace_back(argv[i]);
  }
  image::prepare_decoder();
  try {
    runtime::ModelStore store(models, runtime::Manifest::load(models));
    auto make = [&](bool int8) {
      runtime::Options o;
      o.device = runtime::DeviceRequest::parse("cpu");
      o.threads = threads;
      o.int8 = int8;
      return std::make_unique<runtime::Runtime>(o);
    };
    auto rt_float = make(false), rt_int8 = make(true);
    analyzers::TaskContext cf{*rt_float, store, settings};
    analyzers::TaskContext ci{*rt_int8, store, settings};
    auto task_float = analyzers::make_text_task(cf), task_int8 = analyzers::make_text_task(ci);

    std::vector<Page> pages;
    std::vector<cv::Mat> photos;
    for (const char* name : {"astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png"}) {
      std::string path = std::string("/usr/lib/python3/dist-packages/skimage/data/") + name;
      if (!std::filesystem::exists(path)) continue;
      auto d = image::decode(path);
      photos.push_back(cv::Mat(d.rgb.height, d.rgb.width, CV_8UC3, d.rgb.pixels.data()).clone());
    }
    for (int i = 0; i < hershey; ++i) {
      pages.push_back(hershey_page(i, photos));
    }
    for (auto& f : folders)
      for (auto& p : folder_pages(f)) pages.push_back(std::move(p));

    std::map<std::string, Tally> sets;
    for (auto& p : pages) {
      if (p.set.find(only) == std::string::npos) continue;
      std::string a = task_float->run(p.img, {})["full"], b = task_int8->run(p.img, {})["full"];
      std::string truth = test::squeeze(p.truth);
      size_t ea = test::edit_distance(test::squeeze(a), truth), eb = test::edit_distance(test::squeeze(b), truth);
      for (auto* t : {&sets[p.set], &sets["all"]}) {
        t->chars += truth.size();
        t->float_edits += ea;
        t->int8_edits += eb;
        t->pages += 1;
        t->float_better += ea < eb;
        t->int8_better += eb < ea;
      }
      if (verbose && ea != eb)
        std::cout << p.name << ": float " << ea << ", int8 " << eb << "\n  truth: " << truth
                  << "\n  float: " << test::squeeze(a) << "\n  int8:  " << test::squeeze(b) << "\n";
    }
    std::cout << "| pages | characters | float CER | int8 CER | pages float reads better | pages int8 reads better |\n"
                 "|---|---|---|---|---|---|\n";
    for (auto& [name, t] : sets) {
      std::cout << "| " << name << " (" << t.pages << ") | " << t.chars << " | " << t.float_edits << " ("
                << double(t.float_edits) / std::max<size_t>(t.chars, 1) << ") | " << t.int8_edits << " ("
                << double(t.int8_edits) / std::max<size_t>(t.chars, 1) << ") | " << t.float_better << " | "
                << t.int8_better << " |\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "text_precision: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
