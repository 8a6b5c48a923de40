// What decoding in a separate process would cost per photo (issue 20: a decoder that crashes or hangs would then
// take a helper down instead of a worker). Both rows decode as `work` does (image::decode at the side the default
// tasks want, 1600 pixels) the same photos:
//   InProcess: in the worker, as darkroom does;
//   Helper: in a decoder process started once (forked here before main, before libvips or any thread starts, as an
//     exec'd helper would be), asked over a socketpair, answering through shared memory; the worker copies the
//     pixels out, as it would to keep them past the next request;
//   HelperOverhead: the same exchange for the photo the helper decoded last, without decoding it again: what the
//     separate process adds to each photo (both copies of the pixels and the two messages).
// A process per photo is not measured: exec'ing darkroom costs about 26 ms before it does anything (BENCHMARKS.md,
// "PDQ"), and fork() without exec in a process running libvips' and ONNX Runtime's threads is not safe.
//   build/bench/decode_isolation_bench
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/decode.h"

namespace {

namespace image = dr::image;

constexpr size_t kShared = 64u << 20;  // the largest answer: 1600 x 1600 x 3 is 7.7 MB
constexpr int kSide = 1600;

const std::vector<std::string>& photos() {
  static const std::vector<std::string> p = {
      DARKROOM_SHARED_DIR "/testdata/pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg",  // 4032x3024 JPEG
      "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",                   // 512x512 PNG
      "/usr/share/doc/opencv-doc/examples/data/fruits.jpg",                          // 512x480 JPEG
  };
  return p;
}

bool full_io(ssize_t (*op)(int, void*, size_t), int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t k = op(fd, p, n);
    if (k <= 0) return false;
    p += k;
    n -= size_t(k);
  }
  return true;
}
ssize_t read_some(int fd, void* b, size_t n) { return ::read(fd, b, n); }
ssize_t write_some(int fd, void* b, size_t n) { return ::write(fd, b, n); }

struct Answer {
  int32_t width = 0, height = 0, ok = 0;
};

// The decoder process: one request (a path) at a time; the pixels go to the shared memory.
struct Helper {
  int sock = -1;
  unsigned char* shared = nullptr;
  pid_t pid = 0;

  Helper() {
    int sv[2];
    void* m = ::mmap(nullptr, kShared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return;
    shared = static_cast<unsigned char*>(m);
    pid = ::fork();
    if (pid == 0) {
      ::close(sv[0]);
      serve(sv[1]);
      ::_exit(0);
    }
    ::close(sv[1]);
    sock = sv[0];
  }
  ~Helper() {
    if (sock >= 0) ::close(sock);  // the helper's read ends; it exits
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  }

  void serve(int fd) {
    image::Rgb last;
    for (;;) {
      uint32_t n = 0;
      if (!full_io(read_some, fd, &n, sizeof n) || n > 4096) return;
      std::string path(n, '\0');
      if (!full_io(read_some, fd, path.data(), n)) return;
      Answer a;
      try {
        if (path != "=") {  // "=": answer the last photo again
          image::DecodeOptions o;
          o.max_side = kSide;
          last = image::decode(path, o).rgb;
        }
        if (last.pixels.size() <= kShared) {
          std::memcpy(shared, last.pixels.data(), last.pixels.size());
          a = {last.width, last.height, 1};
        }
      } catch (const std::exception&) {
      }
      if (!full_io(write_some, fd, &a, sizeof a)) return;
    }
  }

  image::Rgb decode(const std::string& path) {
    uint32_t n = uint32_t(path.size());
    std::string req(reinterpret_cast<const char*>(&n), sizeof n);
    req += path;
    Answer a;
    if (!full_io(write_some, sock, req.data(), req.size()) || !full_io(read_some, sock, &a, sizeof a) || !a.ok)
      throw std::runtime_error("the decoder process failed on " + path);
    image::Rgb rgb;
    rgb.width = a.width;
    rgb.height = a.height;
    rgb.pixels.assign(shared, shared + size_t(a.width) * a.height * 3);
    return rgb;
  }
};

Helper g_helper;  // started before main, while the process has one thread

void BM_InProcess(benchmark::State& state) {
  const std::string& path = photos()[size_t(state.range(0))];
  image::DecodeOptions o;
  o.max_side = kSide;
  for (auto _ : state) benchmark::DoNotOptimize(image::decode(path, o));
  state.SetLabel(path.substr(path.rfind('/') + 1));
}

void BM_Helper(benchmark::State& state) {
  const std::string& path = photos()[size_t(state.range(0))];
  for (auto _ : state) benchmark::DoNotOptimize(g_helper.decode(path));
  state.SetLabel(path.substr(path.rfind('/') + 1));
}

void BM_HelperOverhead(benchmark::State& state) {
  const std::string& path = photos()[size_t(state.range(0))];
  g_helper.decode(path);
  for (auto _ : state) benchmark::DoNotOptimize(g_helper.decode("="));
  state.SetLabel(path.substr(path.rfind('/') + 1));
}

}  // namespace

BENCHMARK(BM_InProcess)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Helper)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_HelperOverhead)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
