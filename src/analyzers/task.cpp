#include "analyzers/task.h"

#include <cerrno>

namespace dr::analyzers {

PhotoInput read_photo(const std::string& path, int side, const image::Limits& limits, bool embeddings,
                      std::string content_hash) {
  PhotoInput in;
  if (side >= 0) {
    image::DecodeOptions o;
    o.max_side = side;
    o.limits = limits;
    in.img = image::decode(path, o);
  }
  in.opts.path = path;
  in.opts.embeddings = embeddings;
  in.opts.full_resolution = redecoder(path, limits);
  in.opts.content_hash = std::move(content_hash);
  return in;
}

bool is_host_errno(int err) { return err == ENOSPC || err == EDQUOT || err == EROFS; }

}  // namespace dr::analyzers
