// Not a benchmark: writes N distinct JPEG photos for the long-run benchmarks, fast. By default each is a small
// smooth random gradient with a few random discs and a little noise, drawn from its own seed (bench/soak.sh): no two
// files share content (the catalog keeps one photo per content) and PDQ has structure to hash. With --from, each is
// a random crop (60-95% of each side) of one of the JPEGs in DIR, its colours shifted a little (bench/memory.sh):
// real faces, objects and text for every task's whole path.
//
//   build/bench/make_photos OUT N [--side 96] [--seed 1] [--from DIR]   (files OUT/NNN/NNNNNNN.jpg, 1,000 a folder)
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// A smooth random gradient with 3-6 random discs and a little noise.
void draw(std::vector<unsigned char>& rgb, int w, int h, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.f, 1.f);
  float c0[3], dx[3], dy[3];
  for (int c = 0; c < 3; ++c) {
    c0[c] = 40 + 170 * u(rng);
    dx[c] = (u(rng) - 0.5f) * 160 / float(w);
    dy[c] = (u(rng) - 0.5f) * 160 / float(h);
  }
  struct Disc {
    float x, y, r, col[3];
  };
  std::vector<Disc> discs(3 + rng() % 4);
  for (auto& d : discs)
    d = {u(rng) * w, u(rng) * h, (0.08f + 0.25f * u(rng)) * h, {255 * u(rng), 255 * u(rng), 255 * u(rng)}};
  std::normal_distribution<float> noise(0.f, 4.f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        float v = c0[c] + dx[c] * float(x) + dy[c] * float(y);
        for (const auto& d : discs)
          if ((float(x) - d.x) * (float(x) - d.x) + (float(y) - d.y) * (float(y) - d.y) < d.r * d.r) v = d.col[c];
        rgb[(size_t(y) * w + x) * 3 + c] = (unsigned char)std::clamp(v + noise(rng), 0.f, 255.f);
      }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_photos DIR N [--side 96] [--seed 1]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  const long n = std::atol(argv[2]);
  int side = 96;
  unsigned seed = 1;
  std::string from;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--side")) side = std::max(16, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--seed")) seed = unsigned(std::atol(argv[i + 1]));
    if (!std::strcmp(argv[i], "--from")) from = argv[i + 1];
  }
  struct Source {
    int w, h;
    std::vector<unsigned char> rgb;
  };
  std::vector<Source> sources;
  if (!from.empty()) {
    tjhandle d = tjInitDecompress();
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(from))
      if (e.path().extension() == ".jpg") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::vector<unsigned char> bytes(fs::file_size(f));
      FILE* in = std::fopen(f.c_str(), "rb");
      if (!in || std::fread(bytes.data(), 1, bytes.size(), in) != bytes.size()) return 1;
      std::fclose(in);
      int w, h, sub, cs;
      if (tjDecompressHeader3(d, bytes.data(), bytes.size(), &w, &h, &sub, &cs) != 0 || w < 32 || h < 32) continue;
      Source s{w, h, std::vector<unsigned char>(size_t(w) * h * 3)};
      if (tjDecompress2(d, bytes.data(), bytes.size(), s.rgb.data(), w, 0, h, TJPF_RGB, 0) != 0) continue;
      sources.push_back(std::move(s));
    }
    tjDestroy(d);
    if (sources.empty()) {
      std::fprintf(stderr, "make_photos: no JPEG of at least 32x32 in %s\n", from.c_str());
      return 1;
    }
  }
  int w = side, h = side * 3 / 4;
  tjhandle tj = tjInitCompress();
  if (!tj) return 1;
  std::vector<unsigned char> rgb;
  for (long k = 0; k < n; ++k) {
    std::mt19937 rng(seed * 2654435761u + unsigned(k));
    std::uniform_real_distribution<float> u(0.f, 1.f);
    if (!sources.empty()) {
      const Source& s = sources[size_t(k) % sources.size()];
      w = int(s.w * (0.6f + 0.35f * u(rng)));
      h = int(s.h * (0.6f + 0.35f * u(rng)));
      const int x0 = int(u(rng) * float(s.w - w)), y0 = int(u(rng) * float(s.h - h));
      int shift[3];
      for (int& c : shift) c = int(rng() % 25) - 12;
      rgb.resize(size_t(w) * h * 3);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          for (int c = 0; c < 3; ++c)
            rgb[(size_t(y) * w + x) * 3 + c] =
                (unsigned char)std::clamp(int(s.rgb[(size_t(y + y0) * s.w + x + x0) * 3 + c]) + shift[c], 0, 255);
    } else {
      rgb.resize(size_t(w) * h * 3);
      draw(rgb, w, h, rng);
    }
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    if (tjCompress2(tj, rgb.data(), w, 0, h, TJPF_RGB, &jpeg, &size, TJSAMP_420, 85, TJFLAG_FASTDCT) != 0) {
      std::fprintf(stderr, "make_photos: %s\n", tjGetErrorStr2(tj));
      return 1;
    }
    char sub[32], name[32];
    std::snprintf(sub, sizeof sub, "%03ld", k / 1000);
    std::snprintf(name, sizeof name, "%07ld.jpg", k);
    fs::create_directories(dir / sub);
    FILE* f = std::fopen((dir / sub / name).c_str(), "wb");
    if (!f || std::fwrite(jpeg, 1, size, f) != size || std::fclose(f) != 0) {
      std::fprintf(stderr, "make_photos: cannot write %s\n", (dir / sub / name).c_str());
      return 1;
    }
    tjFree(jpeg);
  }
  tjDestroy(tj);
  std::printf("make_photos: %ld photos of %dx%d under %s\n", n, w, h, dir.c_str());
  return 0;
}
