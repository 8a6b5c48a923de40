// The page's files (web/ and the pinned libraries setup.sh puts under .deps/web-vendor), built into the binary by
// scripts/embed_web.cmake, so that the installed darkroom serves its page with nothing beside it.
#pragma once
#include <cstddef>
#include <string>

namespace dr::server {

struct Asset {
  const char* path;  // "/index.html", "/app.js", "/vendor/preact.mjs"
  const unsigned char* data;
  size_t size;
};

// Null when there is no such file.
const Asset* find_asset(const std::string& path);
// The MIME type for a file name's extension.
const char* mime_type(const std::string& path);

}  // namespace dr::server
