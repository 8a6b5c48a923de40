// The thumbs task of library jobs: a grid thumbnail (WebP, shorter side 250 px, longer at most 750) and a preview
// (WebP, longer side 1440 px), as displayed (EXIF orientation applied), written into the library's thumbs folder
// under the photo's content hash. Its result: {"grid": {"width","height","bytes"}, "preview": {...}}.
// Settings: {"thumbs": {"dir": DIR (set by the library), "quality": 80}}.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "analyzers/task.h"

namespace dr::analyzers {

inline constexpr int kGridShortSide = 250, kGridLongSide = 750, kPreviewSide = 1440;

// <dir>/<first two hex digits>/<hash>-<size>.webp for size "grid" or "preview"; nullopt when the hash is not 64 hex
// digits or the size is unknown (nothing a request says can reach another path).
std::optional<std::string> thumbnail_path(const std::string& dir, const std::string& content_hash,
                                          const std::string& size);

// Throws std::invalid_argument when the settings give no folder (the task runs in a library only).
std::unique_ptr<Task> make_thumbs_task(TaskContext& ctx);

}  // namespace dr::analyzers
